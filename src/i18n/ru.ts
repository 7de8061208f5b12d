/**
 * Every text a person sees, in one place, so that a second language is a second file.
 * Sections belong to modules; keep keys stable (tests and pages refer to them).
 */
export const ru = {
  lists: {
    /** Why a phone cell was not taken (src/lists/phone.ts); shown with the row number. */
    phoneRejected: {
      empty: 'Номер не указан: ячейка с телефоном пустая.',
      invalid: 'Это не номер мобильного телефона: проверьте цифры. Нужно 11 цифр, например 8 912 345-67-89 или +7 912 345-67-89.',
      truncated:
        'Excel сократил номер до вида «7,91235E+11», и последние цифры потерялись. Задайте для колонки с телефонами формат «Текстовый» или «Числовой» без знаков после запятой, впишите номера заново и загрузите файл ещё раз.',
      several: 'В одной ячейке несколько номеров. Оставьте в ячейке один номер, а другой перенесите в отдельную строку.',
      landline: 'Это городской (стационарный) номер: SMS на него не придёт. Нужен мобильный номер, например +7 912 345-67-89.',
      'not-mobile': 'Это не мобильный номер (например, 8-800 или платная линия): SMS на него не отправить.',
      foreign:
        'Номер не российский (например, +7 7… — это Казахстан). Рассылка идёт только на мобильные номера России: +7 9…',
    },
    /** Problems with an uploaded file (src/lists/sheet.ts). */
    sheet: {
      unsupportedType: (fileName: string) =>
        `Файл «${fileName}» не подходит. Загрузите таблицу Excel (.xlsx или .xls), OpenDocument (.ods) или CSV (.csv).`,
      emptyFile: 'Файл пустой: в нём нет ни одной заполненной ячейки. Проверьте, тот ли файл выбран.',
      noHeader:
        'В первой строке файла должны быть названия колонок (например: Телефон, Имя, Заказ), а там сразу данные. Вставьте сверху строку с названиями колонок и загрузите файл снова.',
      noRows: 'В файле есть только строка с названиями колонок, а строк с данными нет. Заполните таблицу и загрузите файл снова.',
      unreadable: (fileName: string) =>
        `Не удалось прочитать файл «${fileName}»: он повреждён или это не таблица. Откройте его в Excel, сохраните заново как «Книга Excel (.xlsx)» и загрузите ещё раз.`,
      encrypted: (fileName: string) =>
        `Файл «${fileName}» защищён паролем. Снимите пароль в Excel (Файл → Сведения → Защитить книгу), сохраните файл и загрузите его снова.`,
      tooManyRows: (limit: number) =>
        `В файле больше ${limit.toLocaleString('ru-RU')} строк с данными — это слишком много для одной загрузки. Разделите файл на несколько частей и загрузите их по очереди.`,
      tooLargeUnpacked: (fileName: string) =>
        `Файл «${fileName}» после распаковки слишком большой для одной загрузки. Разделите таблицу на несколько файлов и загрузите их по очереди.`,
      cellTooLong: (row: number, column: string, limit: number) =>
        `В строке ${row}, колонка «${column}»: в ячейке больше ${limit.toLocaleString('ru-RU')} символов — в списке для SMS такого не бывает. Проверьте файл: возможно, в ячейку попал лишний текст.`,
      tooSlow: (fileName: string, seconds: number) =>
        `Файл «${fileName}» обрабатывался дольше ${seconds} секунд и был остановлен. Проверьте, что это обычная таблица со списком; большой список разделите на несколько файлов.`,
      busy: 'Сейчас обрабатываются другие загруженные файлы. Подождите минуту и загрузите этот файл ещё раз.',
      /** Name given to a column whose header cell is empty; `n` counts from 1 as in Excel. */
      unnamedColumn: (n: number) => `Столбец ${n}`,
      /** Suffix that tells apart columns with the same header. */
      duplicateColumn: (name: string, n: number) => `${name} (${n})`,
      unknownColumn: (column: string, columns: readonly string[]) =>
        `В файле нет колонки «${column}». Выберите одну из колонок: ${columns.map((c) => `«${c}»`).join(', ')}.`,
    },
  },
  templates: {
    /** Template syntax errors (src/templates/render.ts); `field` is the piece of text at fault. */
    syntax: {
      unclosed: (field: string) =>
        `Поле «${field}» не закрыто. Поле пишется в двойных фигурных скобках с обеих сторон, например {{Имя}}: допишите «}}» после названия колонки.`,
      empty: 'В тексте есть пустое поле «{{}}». Впишите между скобками название колонки, например {{Имя}}, или удалите скобки.',
      strayClose: (fragment: string) =>
        `Лишние закрывающие скобки «}}» в «${fragment}». Поле пишется так: {{Имя}} — две скобки до названия колонки и две после.`,
      braceInName: (field: string) =>
        `В поле «${field}» лишняя фигурная скобка. Поле пишется так: {{Имя}} — ровно две скобки с каждой стороны.`,
      newlineInName: (field: string) =>
        `Поле «${field}» не закрыто до конца строки. Допишите «}}» сразу после названия колонки, например {{Имя}}.`,
    },
    /** Length problems (src/templates/segments.ts). */
    segments: {
      tooLongForAmi: (bytes: number, max: number) =>
        `Текст слишком длинный для передачи в Asterisk: ${bytes} байт, а можно не больше ${max} (буква кириллицы — 2 байта, перевод строки — 2). Сократите текст примерно до 990 латинских или 490 русских букв.`,
      tooManyParts: (parts: number, max: number) =>
        `Сообщение займёт ${parts} SMS, а можно не больше ${max}. Сократите текст или значения полей.`,
      exactly160:
        'Текст латиницей занимает ровно 160 знаков (€ [ ] { } ^ ~ \\ | считаются за два): модем разобьёт его на 2 SMS, и первая часть может не уйти. Уберите один знак — тогда сообщение уйдёт одной SMS.',
    },
  },
  listsService: {
    notFound: 'Список не найден. Возможно, его удалили.',
    defaultName: 'Список',
    nameTooLong: (max: number) => `Название списка слишком длинное: не больше ${max} символов.`,
    nameRequired: 'Укажите название списка.',
    noPhoneColumn: (columns: readonly string[]) =>
      `Не удалось понять, в какой колонке телефоны. Выберите колонку с номерами. Колонки в файле: ${columns.map((c) => `«${c}»`).join(', ')}.`,
    unknownPhoneColumn: (column: string, columns: readonly string[]) =>
      `В файле нет колонки «${column}». Колонки в файле: ${columns.map((c) => `«${c}»`).join(', ')}.`,
  },
  campaigns: {
    notFound: 'Рассылка не найдена.',
    nameRequired: 'Укажите название рассылки.',
    chooseList: 'Выберите список получателей.',
    nameTooLong: 'Название рассылки слишком длинное (больше 200 символов).',
    templateRequired: 'Напишите текст сообщения.',
    emptyText: 'Текст сообщения для этой строки пустой.',
    missingFields: (fields: readonly string[]) =>
      `Пустое поле ${fields.map((f) => `«${f}»`).join(', ')}: заполните его в файле или уберите из текста.`,
    unknownFields: (fields: readonly string[], columns: readonly string[]) =>
      `В списке нет ${fields.length > 1 ? 'колонок' : 'колонки'} ${fields.map((f) => `{{${f}}}`).join(', ')}. Можно использовать: ${columns.map((c) => `{{${c}}}`).join(', ')}.`,
    cannot: (action: 'start' | 'pause' | 'resume' | 'cancel', status: string) =>
      `Нельзя ${actionWords[action]} рассылку в состоянии «${campaignStatusWords[status] ?? status}».`,
    advertisingKeepsWindow: 'Рекламная рассылка всегда ждёт окна отправки: «не ждать окна» можно только сервисной.',
    unknownSims: (imsis: readonly string[]) => `Неизвестные SIM-карты: ${imsis.join(', ')}. Посмотрите IMSI на странице «Модемы».`,
    changedMeanwhile: 'Состояние рассылки только что изменилось. Обновите страницу и попробуйте ещё раз.',
  },
  compliance: {
    /** Problems with the configured stop phrases (src/compliance/opt-out.ts). */
    stopPhrases: {
      empty: 'Список стоп-слов пуст. Добавьте хотя бы одно слово, например СТОП: ответив им, человек отписывается от рекламы.',
      tooMany: (count: number, max: number) => `Стоп-слов ${count}, а можно не больше ${max}. Оставьте самые нужные.`,
      noLetters: (phrase: string) =>
        `В стоп-слове «${phrase}» нет ни одной буквы. Впишите слово, например СТОП, или удалите эту строку.`,
      tooLong: (phrase: string, max: number) =>
        `Стоп-фраза «${phrase}» длиннее ${max} символов. Так не отвечают: сократите её до одного-двух слов.`,
      onlyFiller: (phrase: string) =>
        `«${phrase}» — обычное вежливое слово: с ним в стоп-листе любой ответ «${phrase}» отписывал бы человека от рассылки. Уберите его из списка.`,
    },
    /** Why a message was skipped for a recipient (src/compliance/consent.ts); stored on the message. */
    exclusion: {
      'stop-list': 'номер в стоп-листе',
      'no-consent': 'нет согласия на рекламу',
    },
    /** A consent column cell that could not be read (src/compliance/consent.ts). */
    consentCell: {
      unknown: (value: string) =>
        `Не понятно, есть ли согласие на рекламу: «${value}». Напишите «да» или дату согласия (например 15.03.2024), а если согласия нет — «нет» или оставьте ячейку пустой.`,
      badDate: (value: string) => `Такой даты нет: «${value}». Напишите дату согласия как ДД.ММ.ГГГГ, например 15.03.2024.`,
      tooOld: (value: string) => `Дата согласия «${value}» раньше 2000 года. Проверьте, та ли это колонка и верен ли год.`,
      future: (value: string) => `Дата согласия «${value}» ещё не наступила. Проверьте год.`,
    },
    consentDocument: (fileName: string, row: number) => `файл «${fileName}», строка ${row}`,
    consentColumnUnknown: (column: string, columns: readonly string[]) =>
      `В файле нет колонки согласия «${column}». Колонки в файле: ${columns.map((c) => `«${c}»`).join(', ')}.`,
    consentColumnNeedsSource: 'Укажите, откуда согласия в этом файле: например «бумажные анкеты», «форма на сайте».',
    consentColumnErrors: (errors: ReadonlyArray<{ row: number; error: string }>, total: number) =>
      `Список не загружен: в колонке согласия непонятные значения (${total}). ${errors.map((e) => `Строка ${e.row}: ${e.error}`).join(' ')}`,
    replyReason: (phrase: string) => `ответил «${phrase}»`,
    importReason: (fileName: string) => `из файла «${fileName}»`,
    inboundDocument: (id: number) => `входящее SMS №${id}`,
    removalNeedsReason: 'Укажите причину: почему этому номеру снова можно писать (например, «клиент попросил вернуть рассылку, заявление №…»).',
    notOnStopList: 'Этого номера нет в стоп-листе.',
    consentSourceRequired: 'Укажите, откуда согласие: например «бумажная анкета», «форма на сайте», «в офисе».',
    consentInFuture: 'Дата согласия ещё не наступила. Проверьте дату.',
    withdrawnByStaff: 'отозвано по просьбе клиента',
    inboundNotFound: 'Такого входящего сообщения нет.',
    mustBeText: (field: string) => `${field}: нужен текст.`,
    tooLong: (field: string, max: number) => `${field}: не длиннее ${max} символов.`,
    badDate: (field: string) => `${field}: дата как ДД.ММ.ГГГГ или ГГГГ-ММ-ДД, не раньше 2000 года.`,
    /** What info-level logs show instead of a message text (src/compliance/redact.ts). */
    maskedText: (characters: number) => `[${characters} симв.]`,
  },
  /** The compliance pages (src/web/routes/inbox-, stop-list-, consent-, audit-routes.ts). No personal data in flash messages. */
  pages: {
    handled: 'Отмечено как обработанное.',
    unhandled: 'Отмечено как необработанное.',
    stopListAdded: 'Номер добавлен в стоп-лист.',
    stopListAlready: 'Этот номер уже был в стоп-листе.',
    stopListRemoved: 'Номер убран из стоп-листа.',
    stopListImported: (added: number, already: number) => `Из файла добавлено в стоп-лист: ${added}; уже были в стоп-листе: ${already}.`,
    chooseFile: 'Выберите файл с номерами (.xlsx или .csv).',
    consentGiven: 'Согласие записано.',
    consentWithdrawn: 'Отзыв согласия записан.',
    otherSourceNeeded: 'Вы выбрали «другое»: напишите, откуда согласие.',
    badConsentDate: 'Дата согласия: выберите дату в календаре или напишите её как ДД.ММ.ГГГГ.',
    fieldNames: { phone: 'Номер', reason: 'Причина', source: 'Откуда согласие', document: 'Документ', givenAt: 'Дата согласия' } as Record<string, string>,
  },
  common: {
  },
  /** Campaigns over several lists and tags, translit, saved texts (issue 9, part B). */
  campaignTargets: {
    noListsWithTag: (tag: string) => `Нет ни одного списка с меткой «${tag}». Проверьте метку или выберите списки.`,
    missingColumn: (field: string, list: string) =>
      `В списке «${list}» нет колонки «${field}»: добавьте значение по умолчанию, например {{${field}|клиент}}, или уберите поле из текста.`,
    inList: (list: string, problem: string) => `Список «${list}»: ${problem}`,
    onlyDefault: (field: string) =>
      `Колонки «${field}» нет ни в одном из выбранных списков: везде будет подставлено значение по умолчанию. Проверьте, нет ли опечатки.`,
    templateNameRequired: 'Напишите название, под которым сохранить текст.',
    templateNameTooLong: 'Название текста слишком длинное (больше 100 символов).',
    templateTextRequired: 'Напишите текст, который нужно сохранить.',
    templateTextTooLong: 'Текст слишком длинный (больше 5000 символов).',
    templateSaved: (name: string) => `Текст сохранён под названием «${name}». Его можно выбрать в любой новой рассылке.`,
    templateNotFound: 'Сохранённый текст не найден: обновите страницу.',
  },
  // Issue #9, part C: test send, the campaign report and its export.
  report: {
    exportColumns: { row: 'Строка', phone: 'Номер', text: 'Текст SMS', sim: 'SIM', sentAt: 'Отправлено', finishedAt: 'Завершено', state: 'Состояние', reason: 'Причина' },
    badFormat: 'format: «csv» или «xlsx».',
    testSent: (phone: string) => `Тестовое SMS поставлено в очередь на ${phone}: оно уйдёт раньше рассылки. Его состояние — в блоке «Тестовое SMS».`,
    testSkipped: (reason: string) => `Тестовое SMS не отправлено: ${reason}`,
    badRow: 'row: номер строки списка — целое число от 1.',
    noSuchRow: (row: number) => `row: в рассылке нет строки ${row}. Укажите номер строки из отчёта (столбец «Строка»).`,
    rowNotSendable: (row: number, reason: string) => `row: строка ${row} не будет отправлена (${reason}). Выберите другую строку.`,
    nothingToTest: 'В рассылке нет ни одной строки, которую можно отправить: тест отправлять нечего.',
    /** The API's field names as the page's labels say them. */
    pageFields: { phone: 'Телефон сотрудника', row: 'Строка списка' } as Record<string, string>,
  },
  /** Issue #9: sheets, header rows, several numbers in a cell, stored files, versions (src/lists/*). */
  listFiles: {
    unknownSheet: (sheet: string, sheets: readonly string[]) =>
      `В файле нет листа «${sheet}». Выберите один из листов: ${sheets.map((s) => `«${s}»`).join(', ')}.`,
    emptySheet: (sheet: string, sheets: readonly string[]) =>
      `Лист «${sheet}» пустой. Выберите лист с таблицей${sheets.length > 1 ? `: ${sheets.map((s) => `«${s}»`).join(', ')}` : ''}.`,
    badHeaderRow: (row: number) =>
      `Строка ${row} пустая или её нет в таблице. Укажите номер строки, где написаны названия колонок (как в Excel, например 3).`,
    mergedFilled: (from: number, to: number, column: string) =>
      `Строки ${from}–${to}, столбец ${column}: ячейки были объединены — значение подставлено в каждую строку.`,
    hiddenRows: (from: number, to: number) =>
      from === to
        ? `Строка ${from} скрыта в Excel. Она загружена; если её скрыли, чтобы не писать этому человеку, удалите строку из файла и загрузите его снова.`
        : `Строки ${from}–${to} скрыты в Excel. Они загружены; если их скрыли, чтобы не писать этим людям, удалите строки из файла и загрузите его снова.`,
    secondPhone: (taken: string, others: readonly string[]) =>
      `В ячейке несколько номеров: взят мобильный ${taken}, не взяты ${others.join(', ')}.`,
    fileTooLarge: (mb: number) => `Файл больше ${mb} МБ — это предел, заданный администратором. Разделите список на несколько файлов.`,
    noStoredFile:
      'Исходный файл этого списка больше не хранится (например, он удалён вместе с данными по запросу человека). Загрузите файл ещё раз.',
    headerRowInvalid: 'headerRow: номер строки с названиями колонок — целое число от 1.',
    tagsInvalid: 'Метки: не больше 20 меток, каждая не длиннее 50 символов.',
    saved: 'Сохранено.',
    reread: (imported: number, version: number) => {
      const m10 = imported % 10;
      const m100 = imported % 100;
      const word = m10 === 1 && m100 !== 11 ? 'номер' : m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? 'номера' : 'номеров';
      return `Список обновлён: ${imported.toLocaleString('ru-RU')} ${word} (версия ${version}). Рассылки, созданные раньше, отправляются по прежней версии.`;
    },
  },
  /** How long a SIM takes per SMS, on the modems page (src/scheduling/send-pace.ts). */
  sendPace: {
    column: 'Скорость',
    learned: (seconds: string, samples: number) => `≈ ${seconds} с на SMS (по последним ${samples})`,
    unknown: (seconds: string) => `нет данных — считаем ${seconds} с`,
    hint: 'Сколько модем тратит на одну SMS (на каждую часть длинной), от выдачи до ухода в сеть: середина по последним 50 отправленным. По ней считается прогноз окончания рассылки.',
  },
} as const;

/** Stop-list sources as staff read them (stop_list.source). */
export const stopListSourceWords: Record<string, string> = {
  reply: 'ответ SMS',
  manual: 'вручную',
  import: 'из файла',
};

/** Where consent comes from: the choices of the «Согласия» page (free text is kept as written). */
export const consentSourceChoices = ['бумажная анкета', 'форма на сайте', 'в офисе', 'по телефону (запись звонка)', 'другое'] as const;

/** Audit log actions (audit-log.ts `auditActions`) as the «Журнал действий» page names them. */
export const auditActionWords: Record<string, string> = {
  'user.login': 'вход',
  'user.login-failed': 'неудачный вход',
  'user.logout': 'выход',
  'user.create': 'пользователь создан',
  'user.update': 'пользователь изменён',
  'user.password-reset': 'пароль сброшен',
  'user.disable': 'пользователь отключён',
  'user.enable': 'пользователь включён',
  'token.create': 'токен API выдан',
  'token.revoke': 'токен API отозван',
  'list.upload': 'список загружен',
  'list.reupload': 'список загружен заново',
  'list.update': 'список изменён',
  'campaign.create': 'рассылка создана',
  'campaign.start': 'рассылка запущена',
  'campaign.pause': 'рассылка приостановлена',
  'campaign.resume': 'рассылка продолжена',
  'campaign.cancel': 'рассылка отменена',
  'export.download': 'выгрузка скачана',
  'campaign.test': 'тестовое SMS рассылки',
  'campaign.exported': 'отчёт рассылки выгружен',
  'stop-list.add': 'номер добавлен в стоп-лист',
  'stop-list.remove': 'номер убран из стоп-листа',
  'stop-list.import': 'стоп-лист из файла',
  'consent.give': 'согласие записано',
  'consent.withdraw': 'согласие отозвано',
  'consent.import': 'согласия из файла',
  'inbox.handled': 'входящее обработано',
  'erasure.requested': 'запрос на удаление данных',
  'erasure.done': 'персональные данные удалены',
  'sim.update': 'SIM-карта изменена',
  'settings.update': 'настройки изменены',
  'notification-template.save': 'шаблон уведомления сохранён',
  'template.save': 'текст рассылки сохранён',
};

/** Keys of audit `details` as the journal shows them; unknown keys are shown as they are. */
export const auditDetailWords: Record<string, string> = {
  source: 'источник',
  skipped: 'сообщений пропущено',
  inboundId: 'входящее №',
  reason: 'причина',
  handled: 'обработано',
  added: 'добавлено',
  already: 'уже были',
};

const actionWords = { start: 'запустить', pause: 'приостановить', resume: 'продолжить', cancel: 'отменить' } as const;

/** Campaign statuses as staff read them. */
export const campaignStatusWords: Record<string, string> = {
  draft: 'черновик',
  running: 'идёт отправка',
  paused: 'на паузе',
  finished: 'завершена',
  cancelled: 'отменена',
};

/** Message states as staff read them. */
export const messageStateWords: Record<string, string> = {
  waiting: 'в очереди',
  sending: 'отправляется',
  sent: 'отправлено',
  delivered: 'доставлено',
  failed: 'ошибка',
  skipped: 'пропущено',
  unknown: 'неизвестно',
};

/** The reasons stored on messages the law leaves out. */
export const exclusionReasons = { stopList: ru.compliance.exclusion['stop-list'], noConsent: ru.compliance.exclusion['no-consent'] };

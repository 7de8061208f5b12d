import { ru } from '../i18n/ru.js';

/**
 * Is an incoming SMS a request to stop advertising (38-FZ art. 18: the sender must stop at once when
 * the person asks)? See CONTEXT.md beside this file.
 *
 * **The rule** (a product decision; tests show both sides of each point):
 *
 * A reply opts out when its **first meaningful sentence consists only of stop phrases and filler
 * words**, with at least one stop phrase.
 *
 * - Text and phrases are compared as word lists after {@link normaliseForMatching}: case, ё/е,
 *   Latin or digit look-alikes (`CTOП` with Latin C, T, O; `CT0П`), punctuation, emoji and spacing
 *   do not matter. A phrase matches whole words only: `стоплинг` is not `стоп`.
 * - Sentences end at `.`, `!`, `?`, `;`, `…` or a line break. An empty sentence (`!!! стоп`, an
 *   emoji line) is skipped, and so is a sentence made only of filler words (`Спасибо! Стоп`,
 *   `Добрый день. Не пишите мне`): the decision is taken on the first sentence that says something.
 *   Only that sentence counts: `СТОП. Надоели уже` opts out, `Спасибо, получил. Стоп` does not
 *   (the person said something else first; staff see it in the inbox).
 * - Stop phrases may repeat and come in any order (`стоп стоп`, `нет, стоп`); a multi-word phrase
 *   (`не пишите`) must appear as those words in that order.
 * - Filler words ({@link FILLER_WORDS}) are the courtesy and the objects people add around a stop
 *   phrase: пожалуйста, спасибо, здравствуйте, мне, больше, рассылки, смс… They never opt out alone.
 *
 * So `СТОП`, `стоп!!!`, `Stop`, `нет, спасибо`, `ОТПИСКА от рассылки`, `Пожалуйста, не присылайте
 * мне больше смс` opt out; `Нет проблем, приду`, `хватит ли места на парковке?`, `Я нет дома`,
 * `Приду в 10, не пишите после 9 вечера` do not.
 *
 * Not recognised on purpose: letter-spaced words (`С Т О П`: single letters are not joined, since
 * that would also join initials and abbreviations), transliteration (`net`), stop words in a later
 * sentence, verbs outside the list (`отпишите меня`: add `отпишите` to the configured list if wanted).
 * Such replies reach the inbox as ordinary replies.
 *
 * Only the first {@link MAX_TEXT_LENGTH} characters are read; the work is linear in that text and
 * in the size of the phrase list.
 */
export const DEFAULT_STOP_PHRASES: readonly string[] = [
  'СТОП',
  'STOP',
  'ОТПИСКА',
  'ОТПИСАТЬСЯ',
  'НЕТ',
  'не присылайте',
  'не пишите',
  'хватит',
];

/**
 * Words allowed around a stop phrase, which do not opt out by themselves: greetings and thanks,
 * who is asked, and what is to stop. Keep it small: every word here widens what counts as "STOP".
 */
export const FILLER_WORDS: readonly string[] = [
  // courtesy
  'пожалуйста', 'плиз', 'please', 'pls', 'спасибо', 'спс', 'здравствуйте', 'привет', 'добрый', 'день',
  // who
  'мне', 'меня', 'нам', 'нас', 'вы', 'вам', 'мой', 'мои', 'мою',
  // what
  'рассылка', 'рассылку', 'рассылки', 'рассылок', 'смс', 'sms', 'сообщения', 'сообщений', 'спам',
  'писать', 'присылать',
  // glue
  'больше', 'уже', 'от', 'всех', 'все', 'эти', 'это', 'и',
];

export const MAX_TEXT_LENGTH = 2000;
export const MAX_STOP_PHRASES = 50;
export const MAX_STOP_PHRASE_LENGTH = 50;

// Latin letters that look like Cyrillic ones once lower-cased (so upper-case H, B, M, K, T are
// covered too: they become h, b, m, k, t first). Only letters people actually swap for each other.
const LETTER_LOOKALIKES: Readonly<Record<string, string>> = {
  a: 'а', b: 'в', c: 'с', e: 'е', h: 'н', k: 'к', m: 'м', o: 'о', p: 'р', t: 'т', x: 'х', y: 'у',
  ё: 'е',
};
// Digits that look like Cyrillic letters; applied only inside a word that has a letter (`CT0П`),
// so numbers stay numbers.
const DIGIT_LOOKALIKES: Readonly<Record<string, string>> = { '0': 'о', '3': 'з' };

const SEPARATOR = /[^\p{L}\p{N}]+/u;
const LETTER = /\p{L}/u;
const MARKS = /\p{M}+/gu;
const SENTENCE_END = /[.!?;…\n\r]/;

/**
 * The words of a text as the opt-out rule compares them: Unicode-normalised (NFKC, combining marks
 * such as stress accents dropped), lower-cased, ё→е, Latin and digit look-alikes turned into the
 * Cyrillic letter they imitate. Any run of characters that are not letters or digits separates
 * words. Reads at most {@link MAX_TEXT_LENGTH} characters.
 */
export function normaliseForMatching(text: string): string[] {
  const bounded = text.length > MAX_TEXT_LENGTH ? text.slice(0, MAX_TEXT_LENGTH) : text;
  const lowered = bounded.normalize('NFKC').replace(MARKS, '').toLocaleLowerCase('ru');
  const words: string[] = [];
  for (const raw of lowered.split(SEPARATOR)) {
    if (raw === '') continue;
    const hasLetter = LETTER.test(raw);
    let word = '';
    for (const ch of raw) word += LETTER_LOOKALIKES[ch] ?? (hasLetter ? DIGIT_LOOKALIKES[ch] : undefined) ?? ch;
    words.push(word);
  }
  return words;
}

const FILLER = new Set(FILLER_WORDS.flatMap(normaliseForMatching));

/** True when the text is an opt-out request under the rule above. */
export function isOptOut(text: string, stopPhrases: readonly string[]): boolean {
  return matchedStopPhrase(text, stopPhrases) !== null;
}

/**
 * The configured phrase (as written in the list) that made the text an opt-out, for the inbox;
 * the first one in the reply when there are several. Null when the text is not an opt-out.
 */
export function matchedStopPhrase(text: string, stopPhrases: readonly string[]): string | null {
  const phrases = stopPhrases
    .map((phrase) => ({ phrase, words: normaliseForMatching(phrase) }))
    .filter((p) => p.words.length > 0);
  if (phrases.length === 0) return null;
  const bounded = text.length > MAX_TEXT_LENGTH ? text.slice(0, MAX_TEXT_LENGTH) : text;
  for (const sentence of bounded.split(SENTENCE_END)) {
    const words = normaliseForMatching(sentence);
    if (words.length === 0) continue;
    const cover = coverSentence(words, phrases);
    if (cover === undefined) return null; // says something else
    if (cover !== null) return cover;
    // Only filler words ("Спасибо!"): look at the next sentence.
  }
  return null;
}

/**
 * Whether the words split entirely into stop phrases and filler words. `undefined`: they do not;
 * `null`: only filler words; a string: they do, and this is the first stop phrase used.
 * Dynamic programming over word positions: O(words × phrases × phrase length).
 */
function coverSentence(words: readonly string[], phrases: ReadonlyArray<{ phrase: string; words: string[] }>): string | null | undefined {
  // reach[i]: how words[0..i) can be covered (same encoding as the result).
  const reach = new Array<string | null | undefined>(words.length + 1).fill(undefined);
  reach[0] = null;
  const offer = (to: number, value: string | null) => {
    const current = reach[to];
    if (current === undefined || (current === null && value !== null)) reach[to] = value;
  };
  for (let i = 0; i < words.length; i++) {
    const here = reach[i];
    if (here === undefined) continue;
    if (FILLER.has(words[i]!)) offer(i + 1, here);
    for (const p of phrases) {
      if (startsWithAt(words, i, p.words)) offer(i + p.words.length, here ?? p.phrase);
    }
  }
  return reach[words.length];
}

function startsWithAt(words: readonly string[], at: number, phrase: readonly string[]): boolean {
  if (at + phrase.length > words.length) return false;
  for (let j = 0; j < phrase.length; j++) if (words[at + j] !== phrase[j]) return false;
  return true;
}

/**
 * What is wrong with a configured stop-phrase list, in Russian, or null. Refused: an empty list,
 * more than {@link MAX_STOP_PHRASES} phrases, a phrase without letters, a phrase longer than
 * {@link MAX_STOP_PHRASE_LENGTH} characters, and a phrase made only of filler words (with `спасибо`
 * in the list every "Спасибо!" would unsubscribe the person).
 */
export function stopPhrasesProblem(phrases: readonly string[]): string | null {
  const t = ru.compliance.stopPhrases;
  if (phrases.length === 0) return t.empty;
  if (phrases.length > MAX_STOP_PHRASES) return t.tooMany(phrases.length, MAX_STOP_PHRASES);
  for (const raw of phrases) {
    const phrase = raw.trim();
    if (!LETTER.test(phrase)) return t.noLetters(phrase);
    if ([...phrase].length > MAX_STOP_PHRASE_LENGTH) return t.tooLong(phrase, MAX_STOP_PHRASE_LENGTH);
    if (normaliseForMatching(phrase).every((word) => FILLER.has(word))) return t.onlyFiller(phrase);
  }
  return null;
}

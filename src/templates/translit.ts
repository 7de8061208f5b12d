/**
 * «Транслит»: Cyrillic rendered in Latin letters so that a text goes as GSM-7 (159/152 characters a
 * part) instead of UCS-2 (70/67): a Russian text takes about half the parts, so costs about half.
 *
 * The scheme is the one people write by hand in SMS and e-mail addresses — readable at a glance,
 * not a reversible standard (ГОСТ 7.79 needs diacritics GSM-7 lacks; ICAO's "kh"/"ie" read oddly):
 *
 * | а a | б b | в v | г g | д d  | е e  | ё yo | ж zh | з z | и i  | й y  | к k  | л l  | м m   | н n |
 * | о o | п p | р r | с s | т t  | у u  | ф f  | х h  | ц ts| ч ch | ш sh | щ sch| ъ —  | ы y   | ь — |
 * | э e | ю yu| я ya|
 *
 * ъ and ь are dropped (a "'" would only add noise). Capitals keep their case: «Щука» → «Schuka»,
 * and a letter inside an all-capitals word is all capitals: «ЩИ» → «SCHI». Typography that is not
 * in the GSM-7 basic table becomes its plain equivalent (« » „ “ ” → ", ‘ ’ → ', – — → -, … → ...,
 * № → N, no-break space → space), because one such character would send the whole text as UCS-2
 * again. Anything else (emoji, Greek lowercase…) is left as it is: the preview then shows the
 * encoding honestly instead of us guessing.
 *
 * Example: «Иван, ваш заказ готов» → «Ivan, vash zakaz gotov».
 */

const letters: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'yo', ж: 'zh', з: 'z', и: 'i', й: 'y',
  к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f',
  х: 'h', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'sch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya',
  // Ukrainian and Belarusian letters turn up in names from the same exports.
  і: 'i', ї: 'yi', є: 'ye', ґ: 'g', ў: 'u',
};

const typography: Record<string, string> = {
  '«': '"', '»': '"', '„': '"', '“': '"', '”': '"', '‘': "'", '’': "'", '‚': "'", '`': "'",
  '–': '-', '—': '-', '−': '-', '‑': '-', '…': '...', '№': 'N', '\u00a0': ' ', '\u202f': ' ', '\t': ' ',
  '×': 'x', '•': '*',
};

// Built once: every Cyrillic letter, lower and capital, to its Latin (capitals in title case), and
// the typography; so that rendering 100 000 texts is a table look-up per character.
const lowerOf = new Map<string, string>();
const titleOf = new Map<string, string>();
for (const [cyr, lat] of Object.entries(letters)) {
  lowerOf.set(cyr, lat);
  titleOf.set(cyr.toUpperCase(), lat.length ? lat[0]!.toUpperCase() + lat.slice(1) : '');
}

const isUpper = (ch: string | undefined) => ch !== undefined && ch !== ch.toLowerCase() && ch === ch.toUpperCase();
const isLetter = (ch: string | undefined) => ch !== undefined && ch.toLowerCase() !== ch.toUpperCase();

/** The text with Cyrillic in Latin letters and typography made plain (see the table above). */
export function transliterate(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const lower = lowerOf.get(ch);
    if (lower !== undefined) {
      out += lower;
      continue;
    }
    const title = titleOf.get(ch);
    if (title === undefined) {
      out += typography[ch] ?? ch;
      continue;
    }
    // A capital: "Sch" at the start of a word, "SCH" inside a word in capitals ("ЩИ", "ООО ЖКХ").
    const next = text[i + 1];
    const wordInCapitals = title.length > 1 && (isUpper(next) || (isUpper(text[i - 1]) && !isLetter(next)));
    out += wordInCapitals ? title.toUpperCase() : title;
  }
  return out;
}

/** Whether the text has anything {@link transliterate} would change the letters of. */
export function hasCyrillic(text: string): boolean {
  return /[\u0400-\u04ff]/.test(text);
}

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

const isUpper = (ch: string | undefined) => ch !== undefined && ch !== ch.toLowerCase() && ch === ch.toUpperCase();

/** The text with Cyrillic in Latin letters and typography made plain (see the table above). */
export function transliterate(text: string): string {
  let out = '';
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const lower = ch.toLowerCase();
    const latin = letters[lower];
    if (latin === undefined) {
      out += typography[ch] ?? ch;
      continue;
    }
    if (ch === lower || latin.length === 0) {
      out += latin;
      continue;
    }
    // A capital: "Sch" at the start of a word, "SCH" inside a word in capitals ("ЩИ", "ООО ЖКХ").
    const wordInCapitals = isUpper(chars[i + 1]) || (isUpper(chars[i - 1]) && !/[a-zа-яё]/i.test(chars[i + 1] ?? ''));
    out += wordInCapitals ? latin.toUpperCase() : latin[0]!.toUpperCase() + latin.slice(1);
  }
  return out;
}

/** Whether the text has anything {@link transliterate} would change the letters of. */
export function hasCyrillic(text: string): boolean {
  return /[\u0400-\u04ff]/.test(text);
}

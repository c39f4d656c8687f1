/** The name and identity fields of a roster person that search looks at. */
export interface PersonSearchFields {
  givenName: string;
  familyName: string;
  middleName?: string | null;
  preferredFirstName?: string | null;
  preferredLastName?: string | null;
  identifier?: string | null;
  username?: string | null;
  email?: string | null;
}

/** Letters that NFD does not decompose into a base letter plus marks, folded the way a searcher would type them. */
const UNDECOMPOSABLE_LETTERS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
};

const COMBINING_MARKS = /\p{M}+/gu;
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]+/gu;
const UNDECOMPOSABLE = new RegExp(`[${Object.keys(UNDECOMPOSABLE_LETTERS).join('')}]`, 'gu');

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const NOT_ASCII_LETTER_OR_DIGIT = /[^a-z0-9]+/g;

/** Lowercase, accents stripped, punctuation folded to single spaces: what both the stored text and queries become. */
export function foldForSearch(text: string): string {
  // Most names are plain ASCII, where the Unicode steps below change nothing but cost most of the time.
  if (PRINTABLE_ASCII.test(text)) return text.toLowerCase().replace(NOT_ASCII_LETTER_OR_DIGIT, ' ').trim();
  return text
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .toLowerCase()
    .replace(UNDECOMPOSABLE, (letter) => UNDECOMPOSABLE_LETTERS[letter] ?? letter)
    .replace(NOT_LETTER_OR_DIGIT, ' ')
    .trim();
}

/**
 * The text stored in `roster_people.search_text`. Given, middle and family names come first and adjacent so
 * that "jose nunez" is a substring of José Núñez's text, which ranks above a mere trigram resemblance.
 */
export function personSearchText(person: PersonSearchFields): string {
  return foldForSearch(
    [
      person.givenName,
      person.middleName,
      person.familyName,
      person.preferredFirstName,
      person.preferredLastName,
      person.identifier,
      person.username,
      person.email,
    ]
      .filter((part): part is string => typeof part === 'string' && part.length > 0)
      .join(' '),
  );
}

/** A search box's text folded like `personSearchText`; empty when nothing searchable is left. */
export function normaliseSearchQuery(query: string): string {
  return foldForSearch(query);
}

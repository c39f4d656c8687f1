import { describe, expect, it } from 'vitest';
import { foldForSearch, normaliseSearchQuery, personSearchText } from './person-search-text.js';

describe('personSearchText', () => {
  it('lowercases, strips accents and puts the names first', () => {
    expect(
      personSearchText({
        givenName: 'José',
        familyName: 'Núñez',
        middleName: null,
        preferredFirstName: 'Pepe',
        preferredLastName: null,
        identifier: 'S-10042',
        username: 'jnunez',
        email: 'Jose.Nunez@District.test',
      }),
    ).toBe('jose nunez pepe s 10042 jnunez jose nunez district test');
  });

  it('keeps given, middle and family names adjacent and skips missing fields', () => {
    expect(personSearchText({ givenName: 'Ana', middleName: 'María', familyName: 'López-García' })).toBe(
      'ana maria lopez garcia',
    );
  });

  it('folds letters that have no decomposition', () => {
    expect(personSearchText({ givenName: 'Zoë', familyName: 'Ødegaard-Straße' })).toBe('zoe odegaard strasse');
    expect(personSearchText({ givenName: 'Łukasz', familyName: 'Æsir' })).toBe('lukasz aesir');
  });

  it('folds apostrophes, dots and runs of whitespace to single spaces', () => {
    expect(personSearchText({ givenName: "  D'Angelo ", familyName: "O'Brien\t Jr." })).toBe('d angelo o brien jr');
  });
});

describe('foldForSearch', () => {
  it('folds plain ASCII (its fast path) exactly as the Unicode path does', () => {
    // A trailing "é" sends the same text down the Unicode path, where it becomes a trailing "e".
    for (let code = 0x20; code <= 0x7e; code += 1) {
      const text = `Ab${String.fromCharCode(code)}Yz`;
      expect(`${foldForSearch(text)}e`).toBe(foldForSearch(`${text}é`));
    }
    expect(`${foldForSearch("  O'Brien-Smith, Jr. 42 ")}e`).toBe(foldForSearch("  O'Brien-Smith, Jr. 42é"));
  });
});

describe('normaliseSearchQuery', () => {
  it('folds a query exactly like the stored text', () => {
    expect(normaliseSearchQuery('  NÚÑEZ,   José ')).toBe('nunez jose');
    expect(normaliseSearchQuery('jose nunez')).toBe(personSearchText({ givenName: 'José', familyName: 'Núñez' }));
  });

  it('leaves nothing of punctuation alone, and no SQL wildcard survives', () => {
    expect(normaliseSearchQuery('!!! ...')).toBe('');
    expect(normaliseSearchQuery('50%_off\\')).toBe('50 off');
  });
});

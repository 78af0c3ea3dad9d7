import Foundation

/// API.md's word rule, the one place text becomes search words: words are runs of Unicode letters and digits,
/// case-folded, accents removed, in NFC. Stored text and queries both go through it, so SQLite and PostgreSQL index
/// and look up the very same tokens, and neither database's own tokenizer or locale decides what a word is.
enum SearchText {
    /// A query word has at most 100 code points (`q` is at most 100 characters), so a stored word longer than that
    /// can never be whole-equal to one, and its first 101 code points answer every prefix test as the whole word
    /// would. Cutting there keeps lexemes far below PostgreSQL's 2047-byte limit whatever the description holds.
    static let maxStoredWordLength = 101

    /// `text` case-folded, accents removed and in NFC. Foundation's diacritic folding decomposes before it strips
    /// marks, which turns Hangul syllables into conjoining jamo (letters, not marks, so they survive); recomposing
    /// afterwards gives the syllables back, so `고양이` stays three syllables.
    static func folded(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).precomposedStringWithCanonicalMapping
    }

    /// The distinct words of `text`, first occurrence first.
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var seen: Set<String> = []
        var current = ""
        func finish() {
            guard !current.isEmpty else { return }
            let word = String(String.UnicodeScalarView(current.unicodeScalars.prefix(Self.maxStoredWordLength)))
            if seen.insert(word).inserted { words.append(word) }
            current = ""
        }
        // By grapheme cluster: a letter keeps whatever marks folding left on it (Indic vowel signs), instead of the
        // mark splitting the word.
        for character in self.folded(text) {
            if Self.isWordCharacter(character) {
                current.append(character)
            } else {
                finish()
            }
        }
        finish()
        return words
    }

    /// The stored form: the words joined by single spaces (a word never holds a space), `""` for none.
    static func stored(_ text: String?) -> String {
        self.words(text ?? "").joined(separator: " ")
    }

    /// Letters (`L*`) and digits (`N*`) by their first code point; everything else separates words.
    private static func isWordCharacter(_ character: Character) -> Bool {
        guard let first = character.unicodeScalars.first else { return false }
        switch first.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }
}

/// The search text a video is found by, kept in its row and written with it: its title's words, and the words of
/// title and description together.
struct VideoSearchText: Sendable, Equatable {
    var title: String
    var all: String

    init(title: String, description: String?) {
        let titleWords = SearchText.words(title)
        var seen = Set(titleWords)
        let descriptionWords = SearchText.words(description ?? "").filter { seen.insert($0).inserted }
        self.title = titleWords.joined(separator: " ")
        self.all = (titleWords + descriptionWords).joined(separator: " ")
    }
}

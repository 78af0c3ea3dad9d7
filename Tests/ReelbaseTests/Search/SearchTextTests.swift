import Foundation
import Testing

@testable import Reelbase

/// API.md's word rule in Swift, which both databases index: no database involved.
@Suite("Search text: words, folding, Hangul")
struct SearchTextTests {
    @Test(arguments: [
        ("우리 고양이 영상", ["우리", "고양이", "영상"]),
        ("Café au lait", ["cafe", "au", "lait"]),
        ("Cats!", ["cats"]),
        ("ÅNGSTRÖM, naïve—crème brûlée", ["angstrom", "naive", "creme", "brulee"]),
        // Decomposed input (NFD, as macOS file names and some keyboards send it) folds to the same words.
        ("Cafe\u{301} Cre\u{300}me", ["cafe", "creme"]),
        ("고양이cat 123abc", ["고양이cat", "123abc"]),
        ("a_b-c.d", ["a", "b", "c", "d"]),
        ("cat cat CAT", ["cat"]),
        ("%_*-\":^()\\{}+'&|!<->", []),
        ("OR NEAR AND NOT", ["or", "near", "and", "not"]),
        ("", []),
    ])
    func wordsOf(_ text: String, _ words: [String]) {
        #expect(SearchText.words(text) == words)
    }

    /// Diacritic folding goes through a decomposition that splits Hangul syllables into conjoining jamo; the words
    /// must come back as the syllables, or `고양이` would be stored as seven jamo and match nothing typed as syllables.
    @Test func hangulStaysWholeSyllables() throws {
        let words = SearchText.words("고양이")
        let word = try #require(words.first)
        #expect(word.unicodeScalars.count == 3)
        #expect(word.unicodeScalars.allSatisfy { (0xAC00...0xD7A3).contains($0.value) })
        // Text that arrives as jamo (NFD) is stored as syllables too.
        #expect(SearchText.words("고양이".decomposedStringWithCanonicalMapping) == ["고양이"])
        #expect(SearchText.folded("한국어 ÉCOLE") == "한국어 ecole")
    }

    @Test func longWordsAreCutPastAnyQueryWord() {
        let long = String(repeating: "a", count: 300)
        #expect(SearchText.words(long) == [String(repeating: "a", count: SearchText.maxStoredWordLength)])
    }

    @Test func videoTextHoldsTitleThenNewDescriptionWords() {
        let text = VideoSearchText(title: "Cats, cats!", description: "More CATS and dogs")
        #expect(text.title == "cats")
        #expect(text.all == "cats more and dogs")
        #expect(VideoSearchText(title: "x", description: nil).all == "x")
    }

    @Test func queryTrimsAndFolds() {
        let query = SearchQuery("  Kim_Min Sù \n")
        #expect(query.folded == "kim_min su")
        #expect(query.words == ["kim", "min", "su"])
    }
}

import Foundation
import Hummingbird

/// A checked `?q=` of the search endpoints: 1 to 100 characters after trimming (else `422`), folded and cut into
/// words by ``SearchText``. Whatever `q` holds ends up only as words of letters and digits, bound as parameters:
/// no character of it is ever an operator of SQL, `LIKE`, tsquery or FTS5.
struct SearchQuery: Sendable, Equatable {
    static let lengths = 1...100

    /// The trimmed query, case-folded and accent-free, compared literally with usernames.
    var folded: String
    /// Its distinct words; empty when it has none (`"%%"`), which answers an empty page.
    var words: [String]

    init(_ text: String) {
        self.folded = SearchText.folded(text.trimmingCharacters(in: .whitespacesAndNewlines))
        self.words = SearchText.words(self.folded)
    }

    init(_ request: Request) throws {
        let text = request.uri.queryParameters.get("q") ?? ""
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var validator = Validator()
        validator.checkLength(trimmed, Self.lengths, "q", "Must be 1 to 100 characters after trimming.")
        try validator.validate()
        self.init(trimmed)
    }
}

/// Runs `body` for every element with at most `width` running at once, a new one starting as each ends.
///
/// For races that should stay races without becoming a test of the pool: a burst wider than the pool queues for
/// connections, and on a loaded machine the last in the queue pass the 5 s lease timeout and rightly answer `503`.
func concurrently<Element: Sendable>(
    _ elements: [Element], width: Int, _ body: @escaping @Sendable (Element) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var pending = elements.makeIterator()
        for _ in 0..<width {
            guard let element = pending.next() else { break }
            group.addTask { try await body(element) }
        }
        while try await group.next() != nil {
            if let element = pending.next() { group.addTask { try await body(element) } }
        }
    }
}

/// Where each line of a body starts, for turning byte offsets into 1-based lines and
/// columns (in characters: Unicode scalars) in the messages of every body format.
/// Indexed only as far as a lookup needs, so a body with nothing to say costs nothing
/// and one message costs a pass up to its offset. A lookup in what is indexed costs a
/// binary search and a scan of at most `stride` bytes, so that thousands of messages
/// about one long line stay cheap.
final class LineIndex {
    private let body: UnsafeRawBufferPointer
    private static let stride = 256
    /// How far the body is indexed.
    private var indexed = 0
    /// Where each line starts, of those starting by `indexed`.
    private var lineStarts = [0]
    /// UTF-8 continuation bytes before each multiple of `stride` below `indexed`.
    private var continuations = [0]
    /// UTF-8 continuation bytes before `indexed`.
    private var continuationsIndexed = 0

    init(_ body: UnsafeRawBufferPointer) {
        self.body = body
    }

    /// Indexes the body up to `offset`.
    private func index(upTo offset: Int) {
        guard offset > indexed else { return }
        let body = body
        var starts = lineStarts
        var checkpoints = continuations
        // Taken out, so that they grow in place.
        lineStarts = []
        continuations = []
        var count = continuationsIndexed
        var i = indexed
        // A stride at a time, so that the loop over its bytes has nothing else to test.
        while i < offset {
            if i % Self.stride == 0 && i > 0 { checkpoints.append(count) }
            let end = min((i / Self.stride + 1) * Self.stride, offset)
            while i < end {
                let b = body[i]
                if b == 0x0A { starts.append(i + 1) }
                count &+= b & 0xC0 == 0x80 ? 1 : 0
                i &+= 1
            }
        }
        lineStarts = starts
        continuations = checkpoints
        continuationsIndexed = count
        indexed = offset
    }

    /// Line and column of `offset`.
    func location(of offset: Int) -> (line: Int, column: Int) {
        let offset = min(max(offset, 0), body.count)
        index(upTo: offset)
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        let lineStart = lineStarts[low]
        return (low + 1, offset - lineStart - continuationsBefore(offset) + continuationsBefore(lineStart) + 1)
    }

    private func continuationsBefore(_ offset: Int) -> Int {
        let checkpoint = offset / Self.stride
        var count = continuations[min(checkpoint, continuations.count - 1)]
        for i in min(checkpoint, continuations.count - 1) * Self.stride..<offset where body[i] & 0xC0 == 0x80 {
            count += 1
        }
        return count
    }

    /// `line 3, column 7`.
    func describe(_ offset: Int) -> String {
        let (line, column) = location(of: offset)
        return "line \(line), column \(column)"
    }
}

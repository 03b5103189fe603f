/// Where each line of a body starts, for turning byte offsets into 1-based lines and
/// columns (in characters) in messages; found on first use, so a body with nothing to
/// say costs nothing. A lookup costs a binary search and a scan of at most
/// `stride` bytes, so that thousands of messages about one long line stay cheap.
final class LineIndex {
    private let body: UnsafeRawBufferPointer
    private static let stride = 256
    private lazy var lineStarts: [Int] = {
        var starts = [0]
        for i in 0..<body.count where body[i] == 0x0A { starts.append(i + 1) }
        return starts
    }()
    /// UTF-8 continuation bytes before each multiple of `stride`.
    private lazy var continuations: [Int] = {
        var counts = [0]
        counts.reserveCapacity(body.count / Self.stride + 1)
        var count = 0
        for i in 0..<body.count {
            if i > 0 && i % Self.stride == 0 { counts.append(count) }
            if body[i] & 0xC0 == 0x80 { count += 1 }
        }
        return counts
    }()

    init(_ body: UnsafeRawBufferPointer) {
        self.body = body
    }

    /// Line and column of `offset`.
    func location(of offset: Int) -> (line: Int, column: Int) {
        let offset = min(max(offset, 0), body.count)
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

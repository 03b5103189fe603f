import CarbonClient
import Testing

@Suite struct ErrorListingTests {
    @Test func aTerminalSeesTheFirstRecordsAndACountOfTheRest() {
        let errors = (0..<45).map { "record \($0) start: overlaps" }
        let shown = ErrorListing.lines(errors, limit: ErrorListing.terminalLimit)
        #expect(shown.count == 21)
        #expect(Array(shown.prefix(20)) == Array(errors.prefix(20)))
        #expect(shown.last == "... and 25 more records (--json lists every one)")
        #expect(ErrorListing.lines(Array(errors.prefix(21)), limit: 20).last == "... and 1 more record (--json lists every one)")
    }

    @Test func shortListsAndScriptsGetEveryLine() {
        let errors = (0..<20).map { "record \($0) start: overlaps" }
        #expect(ErrorListing.lines(errors, limit: 20) == errors)
        #expect(ErrorListing.lines(errors + errors, limit: nil) == errors + errors)
        #expect(ErrorListing.lines([], limit: 20).isEmpty)
    }
}

import Testing

@testable import CarbonModel

/// The shared sample feed (`data/samples/green-button-minimal.xml`): two hourly readings,
/// 1250 and 980 Wh.
private let sampleFeed = #"""
    <?xml version="1.0" encoding="UTF-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xmlns:espi="http://naesb.org/espi">
      <id>urn:uuid:00000000-0000-0000-0000-000000000000</id>
      <title>Green Button Usage Feed</title>
      <updated>2024-01-01T02:00:00Z</updated>
      <entry>
        <id>urn:uuid:00000000-0000-0000-0000-000000000001</id>
        <title>Meter 12345</title>
        <updated>2024-01-01T02:00:00Z</updated>
        <link rel="self" href="/espi/1_1/resource/Subscription/1/UsagePoint/1"/>
        <link rel="related" href="/espi/1_1/resource/Subscription/1/UsagePoint/1/MeterReading"/>
        <content><espi:UsagePoint><espi:ServiceCategory><espi:kind>0</espi:kind></espi:ServiceCategory></espi:UsagePoint></content>
      </entry>
      <entry>
        <id>urn:uuid:00000000-0000-0000-0000-000000000002</id>
        <title>Hourly kWh</title>
        <updated>2024-01-01T02:00:00Z</updated>
        <link rel="self" href="/espi/1_1/resource/Subscription/1/UsagePoint/1/MeterReading/1"/>
        <link rel="related" href="/espi/1_1/resource/Subscription/1/UsagePoint/1/MeterReading/1/IntervalBlock"/>
        <link rel="related" href="/espi/1_1/resource/ReadingType/1"/>
        <content><espi:MeterReading/></content>
      </entry>
      <entry>
        <id>urn:uuid:00000000-0000-0000-0000-000000000003</id>
        <title>Energy Delivered (Wh)</title>
        <updated>2024-01-01T02:00:00Z</updated>
        <link rel="self" href="/espi/1_1/resource/ReadingType/1"/>
        <content><espi:ReadingType>
          <espi:accumulationBehaviour>4</espi:accumulationBehaviour>
          <espi:commodity>1</espi:commodity>
          <espi:flowDirection>1</espi:flowDirection>
          <espi:intervalLength>3600</espi:intervalLength>
          <espi:kind>12</espi:kind>
          <espi:powerOfTenMultiplier>0</espi:powerOfTenMultiplier>
          <espi:uom>72</espi:uom>
        </espi:ReadingType></content>
      </entry>
      <entry>
        <id>urn:uuid:00000000-0000-0000-0000-000000000004</id>
        <title/>
        <updated>2024-01-01T02:00:00Z</updated>
        <link rel="self" href="/espi/1_1/resource/Subscription/1/UsagePoint/1/MeterReading/1/IntervalBlock/1"/>
        <content><espi:IntervalBlock>
          <espi:interval><espi:duration>7200</espi:duration><espi:start>1704067200</espi:start></espi:interval>
          <espi:IntervalReading><espi:timePeriod><espi:duration>3600</espi:duration><espi:start>1704067200</espi:start></espi:timePeriod><espi:value>1250</espi:value></espi:IntervalReading>
          <espi:IntervalReading><espi:timePeriod><espi:duration>3600</espi:duration><espi:start>1704070800</espi:start></espi:timePeriod><espi:value>980</espi:value></espi:IntervalReading>
        </espi:IntervalBlock></content>
      </entry>
    </feed>
    """#

private let target = GreenButtonTarget(utility: "zj-grid", consumer: "c-1", meter: "m-1")

/// 2024-01-01T00:00:00Z.
private let newYear: Int64 = 1_704_067_200

/// One IntervalReading as a test writes it: every field is text, so that bad ones can be.
private struct IntervalText {
    var start: String?
    var duration: String? = "3600"
    var value: String?
    var qualities: [String] = []

    init(start: String?, duration: String? = "3600", value: String?, qualities: [String] = []) {
        self.start = start
        self.duration = duration
        self.value = value
        self.qualities = qualities
    }

    init(_ start: Int64, _ value: Int64, duration: Int64 = 3600, qualities: [Int] = []) {
        self.init(
            start: String(start), duration: String(duration), value: String(value),
            qualities: qualities.map(String.init))
    }
}

/// A Green Button feed written the way utilities write them, with the prefixes, entry
/// order and links a test asks for.
private struct FeedText {
    /// The Atom prefix; empty: Atom is the default namespace.
    var atomPrefix = ""
    /// The ESPI prefix; empty: ESPI is the default namespace.
    var espiPrefix = "espi"
    var espiURI = "http://naesb.org/espi"
    /// Declare ESPI on each `content` element instead of the root.
    var espiOnContent = false
    var entries: [String] = []

    static let usagePoint = "/espi/1_1/resource/Subscription/1/UsagePoint/1"

    func atom(_ name: String) -> String { atomPrefix.isEmpty ? name : "\(atomPrefix):\(name)" }
    func espi(_ name: String) -> String { espiPrefix.isEmpty ? name : "\(espiPrefix):\(name)" }

    private var espiDeclaration: String {
        espiPrefix.isEmpty ? #"xmlns="\#(espiURI)""# : #"xmlns:\#(espiPrefix)="\#(espiURI)""#
    }

    mutating func entry(links: [(rel: String, href: String)], content: String) {
        let linkText = links.map { #"<\#(atom("link")) rel="\#($0.rel)" href="\#($0.href)"/>"# }.joined(
            separator: "\n    ")
        let contentOpen = espiOnContent ? "<\(atom("content")) \(espiDeclaration)>" : "<\(atom("content"))>"
        entries.append(
            """
              <\(atom("entry"))>
                <\(atom("id"))>urn:uuid:\(entries.count)</\(atom("id"))>
                \(linkText)
                \(contentOpen)\(content)</\(atom("content"))>
              </\(atom("entry"))>
            """)
    }

    mutating func readingType(
        _ id: Int, uom: String? = "72", multiplier: String? = "0", flow: String? = "1", accumulation: String? = "4"
    ) {
        var fields = ""
        for (name, value) in [
            ("accumulationBehaviour", accumulation), ("flowDirection", flow), ("powerOfTenMultiplier", multiplier),
            ("uom", uom),
        ] {
            if let value { fields += "<\(espi(name))>\(value)</\(espi(name))>" }
        }
        entry(
            links: [("self", "/espi/1_1/resource/ReadingType/\(id)")],
            content:
                "<\(espi("ReadingType"))><\(espi("commodity"))>1</\(espi("commodity"))>\(fields)</\(espi("ReadingType"))>"
        )
    }

    mutating func meterReading(_ id: Int, readingType: Int?) {
        var links = [
            ("self", "\(Self.usagePoint)/MeterReading/\(id)"),
            ("related", "\(Self.usagePoint)/MeterReading/\(id)/IntervalBlock"),
        ]
        if let readingType { links.append(("related", "/espi/1_1/resource/ReadingType/\(readingType)")) }
        entry(links: links, content: "<\(espi("MeterReading"))/>")
    }

    func reading(_ r: IntervalText) -> String {
        var out = "<\(espi("IntervalReading"))>"
        for quality in r.qualities {
            out +=
                "<\(espi("ReadingQuality"))><\(espi("quality"))>\(quality)</\(espi("quality"))></\(espi("ReadingQuality"))>"
        }
        out += "<\(espi("timePeriod"))>"
        if let duration = r.duration { out += "<\(espi("duration"))>\(duration)</\(espi("duration"))>" }
        if let start = r.start { out += "<\(espi("start"))>\(start)</\(espi("start"))>" }
        out += "</\(espi("timePeriod"))>"
        if let value = r.value { out += "<\(espi("value"))>\(value)</\(espi("value"))>" }
        return out + "</\(espi("IntervalReading"))>"
    }

    /// An IntervalBlock entry of MeterReading `meterReading`, with its `self` and `up` links
    /// or those of `links`.
    mutating func block(
        _ id: Int, of meterReading: Int, _ readings: [IntervalText], links: Set<String> = ["self", "up"]
    ) {
        let base = "\(Self.usagePoint)/MeterReading/\(meterReading)/IntervalBlock"
        entry(
            links: [("self", "\(base)/\(id)"), ("up", base)].filter { links.contains($0.0) },
            content: "<\(espi("IntervalBlock"))>\n      "
                + readings.map(reading).joined(separator: "\n      ") + "\n    </\(espi("IntervalBlock"))>")
    }

    var text: String {
        let atomDeclaration =
            atomPrefix.isEmpty
            ? #"xmlns="http://www.w3.org/2005/Atom""# : #"xmlns:\#(atomPrefix)="http://www.w3.org/2005/Atom""#
        let declarations = espiOnContent ? atomDeclaration : "\(atomDeclaration) \(espiDeclaration)"
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <\(atom("feed")) \(declarations)>
              <\(atom("id"))>urn:uuid:feed</\(atom("id"))>
            \(entries.joined(separator: "\n"))
            </\(atom("feed"))>
            """
    }

    /// One import ReadingType, one MeterReading, one IntervalBlock of `readings`.
    static func simple(
        _ readings: [IntervalText], uom: String? = "72", multiplier: String? = "0", flow: String? = "1",
        accumulation: String? = "4"
    ) -> String {
        var feed = FeedText()
        feed.readingType(1, uom: uom, multiplier: multiplier, flow: flow, accumulation: accumulation)
        feed.meterReading(1, readingType: 1)
        feed.block(1, of: 1, readings)
        return feed.text
    }
}

private func parse(_ text: String, max: Int = 100_000, target: GreenButtonTarget = target) throws(BodyError)
    -> ParsedBatch<Reading>
{
    try GreenButtonParser.parse(Array(text.utf8), target: target, maxRecords: max)
}

/// The message of a `.malformed` error, or nil for anything else.
private func malformedMessage(_ text: String) -> String? {
    guard case .malformed(_, _, let message)? = bodyError({ try parse(text) }) else { return nil }
    return message
}

/// An hourly reading of `Wh` at hour `hour` of 2024.
private func hourly(_ hour: Int64, _ wh: Int64, qualities: [Int] = []) -> IntervalText {
    IntervalText(newYear + hour * 3600, wh, qualities: qualities)
}

@Suite("Green Button feeds")
struct GreenButtonTests {
    // MARK: Accepted feeds

    @Test("the shared sample: two hourly import readings, named by the target")
    func sample() throws {
        let batch = try parse(sampleFeed)
        #expect(batch.count == 2)
        #expect(batch.errors.isEmpty)
        #expect(batch.recordIndex == [0, 1])
        #expect(
            batch.records == [
                Reading(
                    utility: "zj-grid", meter: "m-1", consumer: "c-1", start: newYear, durationS: 3600, importWh: 1250),
                Reading(
                    utility: "zj-grid", meter: "m-1", consumer: "c-1", start: newYear + 3600, durationS: 3600,
                    importWh: 980),
            ])
        #expect(batch.records.allSatisfy { $0.id == nil && $0.quality == .actual && $0.exportWh == 0 })
    }

    @Test("15-minute and hourly interval data")
    func intervalLengths() throws {
        let quarter = (0..<96).map { IntervalText(newYear + Int64($0) * 900, Int64($0) + 10, duration: 900) }
        let day = try parse(FeedText.simple(quarter))
        #expect(day.errors.isEmpty)
        #expect(day.records.count == 96)
        #expect(day.records.allSatisfy { $0.durationS == 900 })
        #expect(day.records.map(\.start) == (0..<96).map { newYear + Int64($0) * 900 })
        #expect(day.records.map(\.importWh) == (0..<96).map { Int64($0) + 10 })

        let hours = try parse(FeedText.simple((0..<24).map { hourly(Int64($0), 500) }))
        #expect(hours.records.count == 24)
        #expect(hours.records.allSatisfy { $0.durationS == 3600 && $0.importWh == 500 })
    }

    @Test("import and export readings of one start become one reading")
    func importAndExport() throws {
        var feed = FeedText()
        feed.readingType(1, flow: "1")
        feed.readingType(2, flow: "19")
        feed.meterReading(1, readingType: 1)
        feed.meterReading(2, readingType: 2)
        feed.block(1, of: 1, [hourly(0, 1000), hourly(1, 1100), hourly(2, 1200)])
        feed.block(1, of: 2, [hourly(1, 300), hourly(2, 400), hourly(3, 50)])
        let batch = try parse(feed.text)
        #expect(batch.errors.isEmpty)
        #expect(batch.count == 4)
        #expect(batch.records.map(\.start) == (0..<4).map { newYear + $0 * 3600 })
        #expect(batch.records.map(\.importWh) == [1000, 1100, 1200, 0])
        #expect(batch.records.map(\.exportWh) == [0, 300, 400, 50])
    }

    @Test("powerOfTenMultiplier scales values: 3 is kWh; a negative one needs a whole number of Wh")
    func multipliers() throws {
        let kWh = try parse(FeedText.simple([hourly(0, 1), hourly(1, 25)], multiplier: "3"))
        #expect(kWh.errors.isEmpty)
        #expect(kWh.records.map(\.importWh) == [1000, 25_000])

        let milli = try parse(FeedText.simple([hourly(0, 1_500_000), hourly(1, 1234)], multiplier: "-3"))
        #expect(milli.records.map(\.importWh) == [1500])
        #expect(milli.recordIndex == [0])
        #expect(milli.errors.map(\.index) == [1])
        #expect(milli.errors.first?.field == "IntervalReading.value")
        #expect(milli.errors.first?.message.hasSuffix("value 1234 × 10^-3 Wh is not a whole number of Wh") == true)

        let absent = try parse(FeedText.simple([hourly(0, 7)], multiplier: nil))
        #expect(absent.records.map(\.importWh) == [7])
    }

    @Test("quality codes: estimated, metered, and refused")
    func qualities() throws {
        let codes = [0, 7, 14, 17, 18, 19, 8, 9, 11, 12, 13]
        let readings = codes.enumerated().map { hourly(Int64($0.offset), 100, qualities: [$0.element]) }
        let batch = try parse(FeedText.simple(readings + [hourly(11, 100, qualities: [0, 8]), hourly(12, 100)]))
        #expect(batch.errors.isEmpty)
        #expect(
            batch.records.map(\.quality) == Array(repeating: .actual, count: 6) + Array(repeating: .estimated, count: 6)
                + [.actual])

        let refused = try parse(
            FeedText.simple(
                [10, 15, 16, 99].enumerated().map { hourly(Int64($0.offset), 1, qualities: [0, $0.element]) }))
        #expect(refused.records.isEmpty)
        #expect(refused.errors.count == 4)
        #expect(refused.errors.allSatisfy { $0.field == "IntervalReading.ReadingQuality.quality" })
        #expect(refused.errors[0].message.contains("quality 10 (questionable) is not accepted"))
        #expect(refused.errors[3].message.contains("quality 99 is not accepted"))
        #expect(GreenButtonParser.quality(ofCode: 13) == .estimated)
        #expect(GreenButtonParser.quality(ofCode: 10) == nil)
    }

    @Test("any prefix, or the default namespace, may stand for Atom or ESPI")
    func prefixes() throws {
        let readings = [hourly(0, 1250), hourly(1, 980)]
        var prefixed = FeedText(atomPrefix: "a", espiPrefix: "x")
        var espiDefault = FeedText(atomPrefix: "a", espiPrefix: "")
        var scoped = FeedText(espiPrefix: "e", espiOnContent: true)
        for i in 0..<3 {
            var feed = [prefixed, espiDefault, scoped][i]
            feed.readingType(1)
            feed.meterReading(1, readingType: 1)
            feed.block(1, of: 1, readings)
            let batch = try parse(feed.text)
            #expect(batch.records.map(\.importWh) == [1250, 980], "\(i)")
            switch i {
            case 0: prefixed = feed
            case 1: espiDefault = feed
            default: scoped = feed
            }
        }
        #expect(
            prefixed.text.contains(#"<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:x="http://naesb.org/espi">"#))
        #expect(espiDefault.text.contains("<IntervalReading>"))
        #expect(scoped.text.contains(#"<content xmlns:e="http://naesb.org/espi"><e:ReadingType>"#))
    }

    @Test("ESPI names in another namespace are not read")
    func otherNamespaces() throws {
        var elsewhere = FeedText(espiURI: "http://naesb.org/espi/other")
        elsewhere.readingType(1)
        elsewhere.meterReading(1, readingType: 1)
        elsewhere.block(1, of: 1, [hourly(0, 1)])
        #expect(bodyError { try parse(elsewhere.text) } == .empty)

        // A foreign `value` beside the ESPI one, and a foreign IntervalReading, are skipped.
        let feed = FeedText.simple([hourly(0, 5)]).replacingOccurrences(
            of: "<espi:value>5</espi:value>",
            with:
                #"<o:value xmlns:o="urn:other">9</o:value><espi:value>5</espi:value><o:IntervalReading xmlns:o="urn:o"/>"#
        )
        let batch = try parse(feed)
        #expect(batch.errors.isEmpty)
        #expect(batch.records.map(\.importWh) == [5])
    }

    @Test("entries in any order: a ReadingType after its blocks, blocks out of order")
    func entryOrder() throws {
        var feed = FeedText()
        feed.block(2, of: 1, [hourly(5, 50), hourly(6, 60)])
        feed.block(1, of: 1, [hourly(1, 10), hourly(0, 0)])
        feed.meterReading(1, readingType: 7)
        feed.readingType(3, flow: "19")
        feed.readingType(7, multiplier: "3")
        let batch = try parse(feed.text)
        #expect(batch.errors.isEmpty)
        #expect(batch.records.map(\.start) == [0, 1, 5, 6].map { newYear + $0 * 3600 })
        #expect(batch.records.map(\.importWh) == [0, 10_000, 50_000, 60_000])
        #expect(batch.records.allSatisfy { $0.exportWh == 0 })
    }

    @Test("links: self or up to the MeterReading, relative against absolute, missing with one ReadingType")
    func links() throws {
        // Two MeterReadings (import, export), so only the links can tell which a block is of.
        func twoWay(blockLinks: Set<String>) -> FeedText {
            var feed = FeedText()
            feed.readingType(1)
            feed.readingType(2, flow: "19")
            feed.meterReading(1, readingType: 1)
            feed.meterReading(10, readingType: 2)
            feed.block(1, of: 10, [hourly(0, 4)], links: blockLinks)
            return feed
        }
        for links in [["self"], ["up"], ["self", "up"]] as [Set<String>] {
            let batch = try parse(twoWay(blockLinks: links).text)
            #expect(batch.errors.isEmpty, "\(links)")
            #expect(batch.records.map(\.exportWh) == [4], "\(links)")
            #expect(batch.records.map(\.importWh) == [0], "\(links)")
        }
        // A MeterReading may name its ReadingType relatively, the ReadingType itself absolutely.
        let relative = twoWay(blockLinks: ["self"]).text
            .replacingOccurrences(
                of: #"rel="related" href="/espi/1_1/resource/ReadingType/2""#,
                with: #"rel="related" href="ReadingType/2/""#
            )
            .replacingOccurrences(
                of: #"rel="self" href="/espi/1_1/resource/ReadingType/2""#,
                with: #"rel="self" href="https://utility.example/DataCustodian/espi/1_1/resource/ReadingType/2""#)
        #expect(relative.contains(#"href="ReadingType/2/""#) && relative.contains("https://utility.example/"))
        #expect(try parse(relative).records.map(\.exportWh) == [4])

        // No links at all: the feed's only ReadingType.
        var bare = FeedText()
        bare.readingType(1, flow: "19")
        bare.block(1, of: 1, [hourly(0, 4)], links: [])
        #expect(try parse(bare.text).records.map(\.exportWh) == [4])
    }

    @Test("links that cannot be followed make record errors")
    func brokenLinks() throws {
        var unlinked = FeedText()
        unlinked.readingType(1)
        unlinked.readingType(2, flow: "19")
        unlinked.meterReading(1, readingType: 1)
        unlinked.meterReading(2, readingType: 2)
        unlinked.block(1, of: 1, [hourly(0, 4)], links: [])
        let orphan = try parse(unlinked.text)
        #expect(orphan.records.isEmpty)
        #expect(orphan.errors.map(\.field) == ["IntervalBlock"])
        #expect(orphan.errors.first?.message.contains("belongs to none of the feed's 2 MeterReadings") == true)

        // MeterReading/1 is not MeterReading/10's parent: path prefixes end at a '/'.
        var elsewhere = FeedText()
        elsewhere.readingType(1)
        elsewhere.readingType(2, flow: "19")
        elsewhere.meterReading(1, readingType: 1)
        elsewhere.meterReading(2, readingType: 2)
        elsewhere.block(1, of: 10, [hourly(0, 4)])
        #expect(try parse(elsewhere.text).errors.map(\.field) == ["IntervalBlock"])

        var dangling = FeedText()
        dangling.readingType(1)
        dangling.readingType(2, flow: "19")
        dangling.meterReading(1, readingType: 9)
        dangling.block(1, of: 1, [hourly(0, 4)])
        let batch = try parse(dangling.text)
        #expect(batch.errors.map(\.field) == ["MeterReading"])
        #expect(batch.errors.first?.message.contains("names ReadingType/9, which the feed does not hold") == true)

        var none = FeedText()
        none.meterReading(1, readingType: 1)
        none.block(1, of: 1, [hourly(0, 4)])
        #expect(try parse(none.text).errors.map(\.field) == ["ReadingType"])
    }

    @Test("comments, CDATA, references, single quotes, self-closing tags, spaces, BOM, CRLF")
    func xmlSyntax() throws {
        var feed = FeedText.simple([hourly(0, 1250), hourly(1, 980), hourly(2, 3)])
            .replacingOccurrences(
                of: "<espi:value>1250</espi:value>", with: "<espi:value>&#49;2<!-- split -->&#x35;0</espi:value>"
            )
            .replacingOccurrences(of: "<espi:value>980</espi:value>", with: "<espi:value><![CDATA[98]]>0</espi:value>")
            .replacingOccurrences(of: "<espi:value>3</espi:value>", with: "<espi:value>\r\n  3\t</espi:value>")
            .replacingOccurrences(
                of: #"<link rel="self" href="/espi/1_1/resource/ReadingType/1"/>"#,
                with: #"<link href='/espi/1_1/resource/ReadingType/1' rel = 'self' ></link><?note skipped?>"#
            )
            .replacingOccurrences(of: "\n", with: "\r\n")
        feed =
            "\u{FEFF}" + feed.replacingOccurrences(of: #"encoding="UTF-8""#, with: "encoding='utf-8' standalone='yes'")
        let batch = try parse(feed)
        #expect(batch.errors.isEmpty)
        #expect(batch.records.map(\.importWh) == [1250, 980, 3])

        let amp = FeedText.simple([hourly(0, 1)]).replacingOccurrences(
            of: "ReadingType/1", with: "ReadingType/1?a=1&amp;b=&lt;2&gt;")
        #expect(try parse(amp).records.count == 1)
    }

    @Test("the target's names follow the rules of the other formats")
    func targetNames() throws {
        let bad = GreenButtonTarget(utility: "zj-grid", consumer: " c", meter: "m/1")
        #expect(bad.problems.count == 2)
        #expect(target.problems.isEmpty)
        let batch = try parse(sampleFeed, target: bad)
        #expect(batch.records.isEmpty)
        #expect(batch.errors.map(\.field) == ["meter", "consumer", "meter", "consumer"])
        #expect(batch.errors[0].message.hasPrefix("meter must not contain '/'"))
    }

    // MARK: Refused bodies

    @Test("a DTD is refused, whatever it declares (billion laughs)")
    func doctype() {
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
              <!ENTITY lol "lol">
              <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
            ]>
            <feed xmlns="http://www.w3.org/2005/Atom">&lol3;</feed>
            """
        let error = bodyError { try parse(laughs) }
        #expect(
            error
                == .malformed(
                    index: 0, offset: 22,
                    message:
                        "the body is not well-formed XML at line 2, column 1: <!DOCTYPE: DTDs are not accepted (their entities can expand without bound); a Green Button feed needs none"
                ))
        let inside = sampleFeed.replacingOccurrences(of: "<title/>", with: "<title><!ENTITY x 'y'></title>")
        #expect(malformedMessage(inside)?.contains("<!ENTITY: DTDs are not accepted") == true)
    }

    @Test("nesting is limited to 64 elements")
    func depth() throws {
        func nested(_ levels: Int) -> String {
            // feed, entry, title: 3 levels around the nest.
            let open = String(repeating: "<x>", count: levels - 3)
            let close = String(repeating: "</x>", count: levels - 3)
            return sampleFeed.replacingOccurrences(of: "<title/>", with: "<title>\(open)\(close)</title>")
        }
        #expect(try parse(nested(64)).records.count == 2)
        #expect(malformedMessage(nested(65))?.hasSuffix("elements nest deeper than 64 levels") == true)
        let deep = String(repeating: "<a>", count: 100_000)
        #expect(
            malformedMessage(#"<feed xmlns="http://www.w3.org/2005/Atom">"# + deep)?.contains("deeper than 64") == true)
    }

    @Test("entities: only the five predefined ones and character references")
    func entities() {
        let unknown = sampleFeed.replacingOccurrences(of: "<title>Hourly kWh</title>", with: "<title>&nbsp;</title>")
        #expect(malformedMessage(unknown)?.contains("unknown entity &nbsp;: DTDs are not accepted") == true)
        let bare = sampleFeed.replacingOccurrences(of: "<title>Hourly kWh</title>", with: "<title>A & B</title>")
        #expect(malformedMessage(bare)?.contains("'&' must start a reference") == true)
        let nul = sampleFeed.replacingOccurrences(of: "<title>Hourly kWh</title>", with: "<title>&#0;</title>")
        #expect(malformedMessage(nul)?.contains("&#0; is not an XML character") == true)
        let huge = sampleFeed.replacingOccurrences(
            of: "<title>Hourly kWh</title>", with: "<title>&#99999999999999999999999;</title>")
        #expect(malformedMessage(huge)?.contains("is not an XML character") == true)
        let surrogate = sampleFeed.replacingOccurrences(
            of: "<title>Hourly kWh</title>", with: "<title>&#xD800;</title>")
        #expect(malformedMessage(surrogate)?.contains("is not an XML character") == true)
    }

    @Test("unclosed and mismatched tags, with line and column")
    func tags() {
        let unclosed = String(sampleFeed.dropLast("</feed>".count))
        #expect(
            malformedMessage(unclosed)?.hasSuffix("the body ends before <feed> (line 2, column 1) is closed") == true)
        let mismatched = sampleFeed.replacingOccurrences(of: "<title/>", with: "<title></titel>")
        #expect(
            malformedMessage(mismatched)
                == "the body is not well-formed XML at line 40, column 12: </titel> does not close <title> (line 40, column 5)"
        )
        let stray = sampleFeed + "<feed/>"
        #expect(malformedMessage(stray)?.contains("a second root element") == true)
        let text = sampleFeed + "x"
        #expect(malformedMessage(text)?.contains("text outside the root element") == true)
        let twice = sampleFeed.replacingOccurrences(of: #"<link rel="self""#, with: #"<link rel="self" rel="up""#)
        #expect(malformedMessage(twice)?.contains("the attribute rel appears twice") == true)
        let undeclared = sampleFeed.replacingOccurrences(of: "<title/>", with: "<q:title/>")
        #expect(malformedMessage(undeclared)?.contains("the prefix q is not declared") == true)
    }

    @Test("not UTF-8, another declared encoding, no readings at all")
    func encodingsAndEmpty() {
        var latin1 = Array(sampleFeed.utf8)
        let at = latin1.firstIndex(of: UInt8(ascii: "H"))!
        latin1[at] = 0xE9
        #expect(
            bodyError { try GreenButtonParser.parse(latin1, target: target, maxRecords: 10) } == .notUTF8(offset: at))
        let utf16 = [UInt8]([0xFF, 0xFE, 0x3C, 0x00])
        #expect(bodyError { try GreenButtonParser.parse(utf16, target: target, maxRecords: 10) } == .notUTF8(offset: 0))

        let declared = sampleFeed.replacingOccurrences(of: #"encoding="UTF-8""#, with: #"encoding="ISO-8859-1""#)
        #expect(malformedMessage(declared)?.contains(#"encoding "ISO-8859-1"; only UTF-8 is accepted"#) == true)

        #expect(bodyError { try parse("") } == .empty)
        #expect(bodyError { try parse(" \n\t") } == .empty)
        #expect(bodyError { try parse("\u{FEFF}") } == .empty)
        #expect(bodyError { try parse(#"<feed xmlns="http://www.w3.org/2005/Atom"/>"#) } == .empty)
        var noReadings = FeedText()
        noReadings.readingType(1)
        noReadings.meterReading(1, readingType: 1)
        noReadings.block(1, of: 1, [])
        #expect(bodyError { try parse(noReadings.text) } == .empty)
    }

    @Test("the root must be an Atom feed; one UsagePoint a feed")
    func shape() {
        #expect(
            malformedMessage(#"<feed xmlns="urn:not-atom"/>"#)?.contains("the root element must be an Atom feed")
                == true)
        let twoPoints = sampleFeed.replacingOccurrences(
            of: "<content><espi:MeterReading/></content>",
            with: "<content><espi:MeterReading/></content></entry><entry><content><espi:UsagePoint/></content>")
        #expect(
            malformedMessage(twoPoints)?.contains("a second UsagePoint (the first is at line 12, column 14)") == true)
        let twoResources = sampleFeed.replacingOccurrences(
            of: "<espi:MeterReading/>", with: "<espi:MeterReading/><espi:ReadingType/>")
        #expect(malformedMessage(twoResources)?.contains("an entry's content holds one resource") == true)
    }

    @Test("reading number maxRecords + 1 is refused as soon as it starts")
    func tooMany() throws {
        let feed = FeedText.simple((0..<3).map { hourly(Int64($0), 1) })
        #expect(try parse(feed, max: 3).records.count == 3)
        #expect(bodyError { try parse(feed, max: 2) } == .tooManyRecords(limit: 2))
        // Before the broken end of the body is reached.
        let broken = String(feed.dropLast(20))
        #expect(bodyError { try parse(broken, max: 2) } == .tooManyRecords(limit: 2))
        #expect(bodyError { try parse(broken, max: 3) } != .tooManyRecords(limit: 3))
    }

    @Test("a structural error says how many IntervalReadings came before")
    func malformedIndex() {
        let feed = FeedText.simple((0..<3).map { hourly(Int64($0), 1) })
        let broken = feed.replacingOccurrences(
            of: "<espi:value>1</espi:value></espi:IntervalReading>\n      <espi:IntervalReading>",
            with: "<espi:value>1</espi:value></espi:IntervalReading>\n      <espi:IntervalReading><x></y>")
        guard case .malformed(let index, _, _)? = bodyError({ try parse(broken) }) else {
            Issue.record("expected a malformed body")
            return
        }
        #expect(index == 1)
    }

    // MARK: Refused readings

    @Test("a ReadingType that is not interval energy makes each of its readings an error")
    func readingTypeRules() throws {
        let readings = [hourly(0, 1), hourly(1, 2)]
        let cases: [(String, String, String)] = [
            (
                FeedText.simple(readings, uom: "38"), "ReadingType.uom",
                "uom 38 (W) is not energy; only 72 (Wh) is accepted"
            ),
            (FeedText.simple(readings, uom: nil), "ReadingType.uom", "uom is missing; only 72 (Wh) is accepted"),
            (
                FeedText.simple(readings, accumulation: "1"), "ReadingType.accumulationBehaviour",
                "accumulationBehaviour 1 (bulkQuantity) is not interval data; only interval data (accumulationBehaviour 4, deltaData) is accepted"
            ),
            (
                FeedText.simple(readings, flow: "7"), "ReadingType.flowDirection",
                "flowDirection 7 is not accepted: only 1 (forward: energy imported) and 19 (reverse: energy exported) are"
            ),
            (
                FeedText.simple(readings, multiplier: "40"), "ReadingType.powerOfTenMultiplier",
                "powerOfTenMultiplier must be from -12 to 12, got 40"
            ),
            (
                FeedText.simple(readings, multiplier: "99999999999999999999"), "ReadingType.powerOfTenMultiplier",
                "powerOfTenMultiplier 99999999999999999999 does not fit in 64 bits"
            ),
            (FeedText.simple(readings, uom: "Wh"), "ReadingType.uom", #"uom must be an integer code, got "Wh""#),
        ]
        for (feed, field, message) in cases {
            let batch = try parse(feed)
            #expect(batch.records.isEmpty, "\(field)")
            #expect(batch.count == 2)
            #expect(batch.errors.map(\.index) == [0, 1])
            #expect(batch.errors.allSatisfy { $0.field == field }, "\(field)")
            #expect(
                batch.errors.allSatisfy { $0.message.hasSuffix("): " + message) },
                "\(batch.errors.first?.message ?? "")")
            #expect(batch.errors.first?.message.contains("its ReadingType (line ") == true)
        }
        // Every bad field is named.
        let both = try parse(FeedText.simple([hourly(0, 1)], uom: "38", flow: "4"))
        #expect(both.errors.map(\.field) == ["ReadingType.uom", "ReadingType.flowDirection"])
    }

    @Test("values: overflow, past the energy range, negative")
    func values() throws {
        let overflow = try parse(FeedText.simple([IntervalText(start: String(newYear), value: "99999999999999999999")]))
        #expect(overflow.errors.map(\.index) == [0])
        #expect(overflow.errors.map(\.field) == ["IntervalReading.value"])
        #expect(overflow.errors.first?.message.hasSuffix("value 99999999999999999999 does not fit in 64 bits") == true)

        let past = try parse(FeedText.simple([hourly(0, 1_000_000_000), hourly(1, 1_000_000_001)], multiplier: "3"))
        #expect(past.records.map(\.importWh) == [1_000_000_000_000])
        #expect(past.errors.map(\.index) == [1])
        #expect(
            past.errors.first?.message.hasSuffix(
                "value 1000000001 × 10^3 = 1000000001000 Wh is past the 1000000000000 Wh (1 TWh) a reading may hold")
                == true)

        let huge = try parse(FeedText.simple([hourly(0, 9_300_000_000_000_000)], multiplier: "12"))
        #expect(
            huge.errors.first?.message.hasSuffix("value 9300000000000000 × 10^12 Wh does not fit in 64 bits") == true)

        let notNumbers = try parse(
            FeedText.simple([
                IntervalText(start: String(newYear), value: "12.5"),
                IntervalText(start: String(newYear + 3600), value: "+5"),
                IntervalText(start: String(newYear + 7200), value: "-"),
            ]))
        #expect(notNumbers.errors.count == 3)
        #expect(
            notNumbers.errors.first?.message.hasSuffix(
                #"value must be an integer (in the ReadingType's unit), got "12.5""#) == true)
    }

    @Test("a negative value is refused, with where it is")
    func negativeValue() throws {
        let feed = FeedText.simple([hourly(0, 1), IntervalText(start: String(newYear + 3600), value: "-5")])
        let batch = try parse(feed)
        #expect(batch.records.map(\.importWh) == [1])
        let lines = feed.split(separator: "\n", omittingEmptySubsequences: false)
        let line = lines.firstIndex { $0.contains("<espi:value>-5<") }! + 1
        let column =
            lines[line - 1].distance(
                from: lines[line - 1].startIndex, to: lines[line - 1].firstRange(of: "<espi:value>-5")!.lowerBound) + 1
        #expect(
            batch.errors == [
                RecordError(
                    index: 1, field: "IntervalReading.value",
                    message:
                        "IntervalReading 2 of IntervalBlock 1 (line \(line), column \(column)): value -5 is negative; "
                        + "energy fed into the grid comes in a ReadingType with flowDirection 19 (reverse)")
            ])
    }

    @Test("start and duration follow the ranges of the other formats")
    func times() throws {
        let batch = try parse(
            FeedText.simple([
                IntervalText(newYear, 1, duration: 0),
                IntervalText(946_684_799, 1),
                IntervalText(newYear + 3600, 1, duration: 2_678_401),
                IntervalText(start: "2024-01-01T00:00:00Z", value: "1"),
                IntervalText(start: nil, value: "1"),
                IntervalText(start: String(newYear + 7200), duration: nil, value: nil),
            ]))
        #expect(batch.records.isEmpty)
        #expect(batch.count == 6)
        // By start: 1999, then 2024 (twice), then the two without a readable start, in feed order.
        let byIndex = Dictionary(grouping: batch.errors, by: \.index).mapValues { $0.map(\.field) }
        #expect(byIndex[0] == ["IntervalReading.timePeriod.start"])
        #expect(byIndex[1] == ["IntervalReading.timePeriod.duration"])
        #expect(byIndex[2] == ["IntervalReading.timePeriod.duration"])
        #expect(byIndex[3] == ["IntervalReading.timePeriod.duration", "IntervalReading.value"])
        #expect(byIndex[4] == ["IntervalReading.timePeriod.start"])
        #expect(byIndex[5] == ["IntervalReading.timePeriod.start"])
        let messages = batch.errors.map(\.message)
        #expect(
            messages.contains {
                $0.hasSuffix(
                    "start 946684799 (1999-12-31T23:59:59Z) is outside 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z"
                )
            })
        #expect(messages.contains { $0.hasSuffix("duration 0 must be from 1 to 2678400 seconds (31 days)") })
        #expect(
            messages.contains { $0.hasSuffix(#"start must be Unix seconds (an integer), got "2024-01-01T00:00:00Z""#) })
        #expect(messages.contains { $0.hasSuffix("the IntervalReading has no timePeriod/start") })
        #expect(checkInvariants(batch))
    }

    @Test("the same start twice in one direction, or with two durations, is a record error")
    func conflicts() throws {
        var feed = FeedText()
        feed.readingType(1)
        feed.readingType(2, flow: "19")
        feed.meterReading(1, readingType: 1)
        feed.meterReading(2, readingType: 2)
        feed.block(1, of: 1, [hourly(0, 1), hourly(1, 2), hourly(2, 3)])
        feed.block(2, of: 1, [hourly(1, 2)])
        feed.block(1, of: 2, [IntervalText(newYear + 7200, 9, duration: 900), hourly(3, 4)])
        let batch = try parse(feed.text)
        #expect(batch.count == 4)
        #expect(batch.recordIndex == [0, 3])
        #expect(batch.records.map(\.exportWh) == [0, 4])
        #expect(batch.errors.map(\.index) == [1, 2])
        #expect(batch.errors[0].field == "IntervalReading.timePeriod.start")
        #expect(batch.errors[0].message.hasPrefix("IntervalReading 1 of IntervalBlock 2 (line "))
        #expect(batch.errors[0].message.contains("is also the start of IntervalReading 2 of IntervalBlock 1 (line"))
        #expect(batch.errors[0].message.hasSuffix("both import"))
        #expect(batch.errors[1].field == "IntervalReading.timePeriod.duration")
        #expect(
            batch.errors[1].message.contains(
                "duration 900 differs from the 3600 seconds of IntervalReading 3 of IntervalBlock 1"))
        #expect(checkInvariants(batch))
    }

    @Test("repeated fields and elements inside numbers are refused")
    func repeatedFields() throws {
        let twice = FeedText.simple([hourly(0, 1)]).replacingOccurrences(
            of: "<espi:value>1</espi:value>", with: "<espi:value>1</espi:value><espi:value>2</espi:value>")
        #expect(
            try parse(twice).errors.map(\.message).first?.hasSuffix(
                "value appears more than once in the IntervalReading") == true)
        let nested = FeedText.simple([hourly(0, 1)]).replacingOccurrences(
            of: "<espi:value>1</espi:value>", with: "<espi:value>1<b/></espi:value>")
        #expect(
            try parse(nested).errors.map(\.message).first?.hasSuffix(
                "value must be an integer (in the ReadingType's unit), got an element") == true)
        let typeTwice = FeedText.simple([hourly(0, 1)]).replacingOccurrences(
            of: "<espi:uom>72</espi:uom>", with: "<espi:uom>72</espi:uom><espi:uom>72</espi:uom>")
        #expect(
            try parse(typeTwice).errors.map(\.message).first?.hasSuffix("uom appears more than once in the ReadingType")
                == true)
    }

    @Test("a field repeated many times is one problem")
    func repeatedOnce() throws {
        let many = String(repeating: "<espi:value>2</espi:value>", count: 50)
        let feed = FeedText.simple([hourly(0, 1)]).replacingOccurrences(of: "<espi:value>1</espi:value>", with: many)
        #expect(try parse(feed).errors.count == 1)
        let qualities = String(
            repeating: "<espi:ReadingQuality><espi:quality>10</espi:quality></espi:ReadingQuality>", count: 50)
        let refused = FeedText.simple([hourly(0, 1)]).replacingOccurrences(
            of: "<espi:IntervalReading>", with: "<espi:IntervalReading>" + qualities)
        #expect(try parse(refused).errors.map(\.field) == ["IntervalReading.ReadingQuality.quality"])
    }

    @Test("lines and columns count characters, on long lines too")
    func lineIndex() {
        let bytes = Array(("ab\n" + String(repeating: "é", count: 300) + "x\n😀y").utf8)
        bytes.withUnsafeBytes { body in
            let lines = LineIndex(body)
            #expect(lines.describe(0) == "line 1, column 1")
            #expect(lines.describe(2) == "line 1, column 3")
            #expect(lines.describe(3 + 600) == "line 2, column 301")
            #expect(lines.describe(3 + 601 + 4 + 1) == "line 3, column 2")
            #expect(lines.describe(bytes.count) == "line 3, column 3")
        }
    }

    @Test("a line and column do not depend on what was looked up before")
    func lineIndexOrder() {
        let text = "ab\n" + String(repeating: "é", count: 300) + "x\n\n😀y" + String(repeating: "z", count: 600) + "\n"
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { body in
            // A fresh index reads only up to the offset asked about.
            let fresh = (0...bytes.count).map { LineIndex(body).describe($0) }
            #expect(fresh[3 + 600 + 2 + 4 + 1] == "line 4, column 2")
            let backwards = LineIndex(body)
            #expect((0...bytes.count).reversed().allSatisfy { backwards.describe($0) == fresh[$0] })
            let forwards = LineIndex(body)
            #expect((0...bytes.count).allSatisfy { forwards.describe($0) == fresh[$0] })
        }
    }

    // MARK: Size and robustness

    @Test("a year of 15-minute data for one meter")
    func year() throws {
        let count = 35_040
        var feed = FeedText()
        feed.readingType(1, multiplier: "0")
        feed.meterReading(1, readingType: 1)
        let text = feed.text
        // One block a day, as utilities send them.
        var body = Array(text.utf8.dropLast("</feed>".utf8.count))
        body.reserveCapacity(count * 180)
        for day in 0..<(count / 96) {
            body += Array(
                """
                <entry><link rel="self" href="\(FeedText.usagePoint)/MeterReading/1/IntervalBlock/\(day + 1)"/>
                <content><espi:IntervalBlock>
                """.utf8)
            for q in 0..<96 {
                let n = day * 96 + q
                body += Array(
                    feed.reading(
                        IntervalText(
                            newYear + Int64(n) * 900, Int64(n % 1000), duration: 900, qualities: n % 500 == 0 ? [8] : []
                        )
                    ).utf8)
                body.append(0x0A)
            }
            body += Array("</espi:IntervalBlock></content></entry>\n".utf8)
        }
        body += Array("</feed>".utf8)
        #expect(body.count > 5_000_000)
        let batch = try GreenButtonParser.parse(body, target: target, maxRecords: 100_000)
        #expect(batch.errors.isEmpty)
        #expect(batch.records.count == count)
        #expect(
            batch.records.first
                == Reading(
                    utility: "zj-grid", meter: "m-1", consumer: "c-1", start: newYear, durationS: 900, importWh: 0,
                    quality: .estimated))
        #expect(batch.records[1234].importWh == 234)
        #expect(batch.records[1234].start == newYear + 1234 * 900)
        #expect(batch.records.last?.start == newYear + Int64(count - 1) * 900)
        #expect(batch.records.filter { $0.quality == .estimated }.count == (count + 499) / 500)
        #expect(
            bodyError { try GreenButtonParser.parse(body, target: target, maxRecords: count - 1) }
                == .tooManyRecords(limit: count - 1))
    }

    @Test("mangled feeds return a batch that keeps its invariants, or throw; never crash")
    func mangled() {
        var feed = FeedText()
        feed.readingType(1)
        feed.readingType(2, flow: "19", accumulation: "1")
        feed.meterReading(1, readingType: 1)
        feed.meterReading(2, readingType: 2)
        feed.block(1, of: 1, [hourly(0, 1), hourly(1, 2, qualities: [8]), hourly(1, 3)])
        feed.block(1, of: 2, [hourly(0, 4)])
        let seeds = [Array(sampleFeed.utf8), Array(feed.text.utf8)]
        var rng = SeededGenerator(seed: 17)
        var returned = 0
        var thrown = 0
        let extra = Array("<>/&;#x'\"=:![]-?espi:value</ CDATA".utf8) + [0x00, 0x80, 0xC3, 0xFF]
        for seed in seeds {
            for _ in 0..<1500 {
                var body = FuzzTests.mutate(seed, &rng)
                if Bool.random(using: &rng) {
                    body.insert(extra.randomElement(using: &rng)!, at: Int.random(in: 0...body.count, using: &rng))
                }
                do {
                    let batch = try GreenButtonParser.parse(body, target: target, maxRecords: 50)
                    #expect(checkInvariants(batch), "\(String(decoding: body, as: UTF8.self).debugDescription)")
                    returned += 1
                } catch {
                    thrown += 1
                }
            }
        }
        #expect(returned > 100)
        #expect(thrown > 100)
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

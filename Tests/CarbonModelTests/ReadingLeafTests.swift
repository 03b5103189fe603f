import Testing

@testable import CarbonModel

@Suite("Reading leaf")
struct ReadingLeafTests {
    @Test("the leaf of a plain reading, byte for byte")
    func plain() {
        var reading = goodReading
        #expect(
            String(decoding: reading.leafBytes, as: UTF8.self)
                == #"{"consumer":"c-1","duration_s":3600,"export_wh":0,"id":null,"import_wh":1250,"meter":"m-1","quality":"actual","start":1790784000,"utility":"zj-grid"}"#
        )
        reading.id = "m-1-1790784000"
        reading.quality = .estimated
        reading.exportWh = 7
        #expect(
            String(decoding: reading.leafBytes, as: UTF8.self)
                == #"{"consumer":"c-1","duration_s":3600,"export_wh":7,"id":"m-1-1790784000","import_wh":1250,"meter":"m-1","quality":"estimated","start":1790784000,"utility":"zj-grid"}"#
        )
        #expect(reading.end == 1_790_787_600)
        #expect(reading.key == ReadingKey(utility: "zj-grid", meter: "m-1", start: 1_790_784_000))
    }

    @Test("the leaf equals the JSONValue encoding for random readings with nasty strings and extreme numbers")
    func randomLeaves() throws {
        var rng = SeededGenerator(seed: 42)
        var appended: [UInt8] = [1, 2, 3]
        var expectedAppended: [UInt8] = [1, 2, 3]
        for i in 0..<2000 {
            let numbers: [Int64] = [0, 1, 9, 10, -1, .min, .max, Int64.random(in: .min ... .max, using: &rng)]
            let reading = Reading(
                utility: nastyString(&rng), meter: nastyString(&rng, maxScalars: 40), consumer: nastyString(&rng),
                start: numbers.randomElement(using: &rng)!, durationS: numbers.randomElement(using: &rng)!,
                importWh: numbers.randomElement(using: &rng)!, exportWh: numbers.randomElement(using: &rng)!,
                quality: Bool.random(using: &rng) ? .actual : .estimated,
                id: Bool.random(using: &rng) ? nil : nastyString(&rng, maxScalars: 200))
            let expected = reading.json.canonicalBytes()
            #expect(reading.leafBytes == expected, "reading \(i)")
            #expect(JSONValue.isCanonical(reading.leafBytes))
            reading.writeLeaf(into: &appended)
            expectedAppended += expected
            #expect(try JSONValue.parse(reading.leafBytes) == reading.json)
        }
        #expect(appended == expectedAppended)
    }

    @Test("consumer JSON uses the interface names")
    func consumerJSON() {
        let consumer = Consumer(id: "c-1", utility: "zj-grid", zone: "CN-ZJ", consumerClass: .public, normalizer: 3)
        #expect(consumer.json.canonicalString == #"{"class":"public","consumer":"c-1","normalizer":3,"utility":"zj-grid","zone":"CN-ZJ"}"#)
    }
}

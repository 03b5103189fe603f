import CarbonAccounting
import CarbonModel
import Testing

@Suite struct FactorFileTests {
    @Test func gramsConvertToMilligramsExactlyWithoutFloatingPoint() {
        #expect(FactorFile.milligrams(fromGrams: "561.20") == 561_200)
        #expect(FactorFile.milligrams(fromGrams: "557.93") == 557_930)
        #expect(FactorFile.milligrams(fromGrams: "0.001") == 1)
        #expect(FactorFile.milligrams(fromGrams: "536.6") == 536_600)
        #expect(FactorFile.milligrams(fromGrams: "12") == 12_000)
        for refused in ["1.2345", "-1", "1e3", ".5", "5.", "", "1,5", " 5", "100001"] {
            #expect(FactorFile.milligrams(fromGrams: refused) == nil, "\(refused)")
        }
    }

    @Test func nativeRowsAnnualAndSubAnnualWithEveryBadRowNamed() {
        let calendar = FixedOffsetCalendar(offsetSeconds: 8 * 3600)
        let csv = """
            zone,kind,year,mg_per_kwh,source,confidence
            CN,average,2022,536600,MEE,published
            CN,average,2022.5,1,MEE,published
            CN,nope,2022,-1,,published
            """
        let parsed = FactorFile.parse(csv, format: .csv, dataset: "d", electricityMapsZone: nil, calendar: calendar)
        #expect(parsed.rows.map(\.mgPerKWh) == [536_600])
        #expect(parsed.rows.first?.start == calendar.startOfYear(2022))
        #expect(parsed.errors.map(\.index) == [1, 2])
        #expect(parsed.errors.last?.message.contains("kind") == true)
        #expect(parsed.errors.last?.message.contains("source") == true)

        let ndjson = """
            {"zone":"CN-ZJ","kind":"residual","start":"2024-01-01T00:00:00+08:00","end":"2024-01-01T01:00:00+08:00","mg_per_kwh":500000,"source":"grid operator"}
            {"zone":"CN-ZJ","kind":"average","start":10,"end":5,"mg_per_kwh":1,"source":"x","colour":"red"}
            """
        let lines = FactorFile.parse(ndjson, format: .ndjson, dataset: "d", electricityMapsZone: nil, calendar: calendar)
        #expect(lines.rows.count == 1)
        #expect(lines.rows.first?.end == lines.rows.first.map { $0.start + 3600 })
        #expect(lines.errors.map(\.index) == [1])
        #expect(lines.errors.first?.message.contains("colour") == true)
        #expect(lines.errors.first?.message.contains("end must be after start") == true)
    }
}

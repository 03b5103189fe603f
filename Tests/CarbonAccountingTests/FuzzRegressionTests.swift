import CarbonAccounting
import Foundation
import Testing

/// Inputs the fuzz targets' properties caught in CarbonAccounting, kept so they stay fixed.
@Suite("Accounting fuzz regressions")
struct FuzzRegressionTests {
    /// FuzzElectricityMaps: every factor row must be within 0...100000000 mg/kWh, but the
    /// export's g/kWh were capped on the whole part only, so 100000.5 g/kWh loaded as
    /// 100000500 mg/kWh.
    @Test("an Electricity Maps intensity over 100000 g/kWh is refused")
    func electricityMapsOverCap() throws {
        let url = try #require(Bundle.module.url(forResource: "FuzzRegressions/electricitymaps-over-cap", withExtension: "csv"))
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        let parsed = FactorFile.parse(
            text, format: .csv, dataset: "em", electricityMapsZone: "CN-ZJ", calendar: FixedOffsetCalendar.utc)
        #expect(parsed.rows.isEmpty)
        #expect(parsed.errors.map { $0.index } == [0])
        #expect(parsed.errors.first?.message.contains("from 0 to 100000") == true)
    }

    @Test("the cap is 100000 g/kWh exactly")
    func gramsCap() {
        #expect(FactorFile.milligrams(fromGrams: "100000") == 100_000_000)
        #expect(FactorFile.milligrams(fromGrams: "100000.000") == 100_000_000)
        #expect(FactorFile.milligrams(fromGrams: "99999.999") == 99_999_999)
        for refused in ["100000.001", "100000.5", "100000.999"] {
            #expect(FactorFile.milligrams(fromGrams: refused) == nil, "\(refused)")
        }
    }
}

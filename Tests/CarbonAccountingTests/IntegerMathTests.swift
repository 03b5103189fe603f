import Testing

@testable import CarbonAccounting

@Suite("Integer math")
struct IntegerMathTests {
    @Test("floorDiv rounds toward minus infinity, unlike /")
    func floorDivNegative() {
        #expect(IntegerMath.floorDiv(-7 as Int64, 2) == -4)
        #expect(-7 / 2 == -3)
        #expect(IntegerMath.floorDiv(7 as Int64, -2) == -4)
        #expect(IntegerMath.floorDiv(-8 as Int64, 2) == -4)
        #expect(IntegerMath.floorDiv(-1 as Int64, 1000) == -1)
        #expect(IntegerMath.floorDiv(0 as Int64, 7) == 0)
        #expect(IntegerMath.floorDiv(7 as Int64, 2) == 3)
        #expect(IntegerMath.floorDiv(-7 as Int64, -2) == 3)
        #expect(IntegerMath.floorDiv(-5 as Int128, 2) == -3)
        #expect(IntegerMath.floorDiv(Int128(Int64.min) * 4 - 1, 4) == Int128(Int64.min) - 1)
    }

    @Test("clamp and saturation")
    func clampAndSaturate() {
        #expect(IntegerMath.clamp(-1, 0, 1000) == 0)
        #expect(IntegerMath.clamp(1001, 0, 1000) == 1000)
        #expect(IntegerMath.clamp(500, 0, 1000) == 500)
        #expect(IntegerMath.saturating(Int128(Int64.max) + 1) == Int64.max)
        #expect(IntegerMath.saturating(Int128(Int64.min) - 1) == Int64.min)
        #expect(IntegerMath.floorRatio([Int128.max, 2], [1]) == nil)
        #expect(IntegerMath.floorRatio([7, 3], [4]) == 5)
    }
}

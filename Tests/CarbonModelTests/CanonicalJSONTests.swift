import Testing

@testable import CarbonModel

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test("every control character is escaped, short forms where they exist, else \\u00xx lower case")
    func controlCharacters() {
        let short: [UInt8: String] = [0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"]
        let hex = Array("0123456789abcdef")
        for b in UInt8(0)..<0x20 {
            let expected = short[b] ?? "\\u00\(hex[Int(b >> 4)])\(hex[Int(b & 0xF)])"
            let value = JSONValue.string(String(Unicode.Scalar(b)))
            #expect(value.canonicalString == "\"\(expected)\"", "byte \(b)")
        }
    }

    @Test("quotes and backslashes are escaped; /, DEL, non-ASCII and U+2028 are literal")
    func otherCharacters() {
        #expect(JSONValue.string("a\"b\\c").canonicalString == #""a\"b\\c""#)
        #expect(JSONValue.string("a/b").canonicalString == #""a/b""#)
        #expect(JSONValue.string("\u{7F}").canonicalBytes() == [0x22, 0x7F, 0x22])
        #expect(JSONValue.string("é中😀\u{2028}\u{85}").canonicalBytes() == Array("\"é中😀\u{2028}\u{85}\"".utf8))
        #expect(JSONValue.string("").canonicalString == "\"\"")
        // Long clean runs and escapes straddling the 8-byte fast path.
        let long = String(repeating: "abcdefg", count: 9) + "\"" + String(repeating: "x", count: 17) + "\n"
        #expect(JSONValue.string(long).canonicalString == "\"" + String(repeating: "abcdefg", count: 9) + "\\\""
            + String(repeating: "x", count: 17) + "\\n\"")
    }

    @Test("object keys sort by their UTF-8 bytes")
    func keyOrder() {
        let value: JSONValue = [
            "b": 1, "a": 2, "aa": 3, "B": 4, "é": 5, "z": 6, "\u{FFFF}": 7, "😀": 8, "": 9, "a\u{0}": 10, "_": 11,
        ]
        // "" < "B" < "_" < "a" < "a\0" < "aa" < "b" < "z" < "é" (C3 A9) < U+FFFF (EF BF BF) < 😀 (F0 ...)
        #expect(
            value.canonicalString
                == #"{"":9,"B":4,"_":11,"a":2,"a\u0000":10,"aa":3,"b":1,"z":6,"é":5,"\#u{FFFF}":7,"😀":8}"#)
    }

    @Test("integers: zero, negatives, Int64 extremes")
    func integers() {
        #expect(JSONValue.int(0).canonicalString == "0")
        #expect(JSONValue.int(7).canonicalString == "7")
        #expect(JSONValue.int(-7).canonicalString == "-7")
        #expect(JSONValue.int(10).canonicalString == "10")
        #expect(JSONValue.int(-1_000_000_000_000).canonicalString == "-1000000000000")
        #expect(JSONValue.int(.max).canonicalString == "9223372036854775807")
        #expect(JSONValue.int(.min).canonicalString == "-9223372036854775808")
    }

    @Test("nested values, literals, empty containers")
    func nested() {
        let value: JSONValue = [
            "z": [1, [2, []], [:], ["b": nil, "a": true]], "a": ["y": false, "x": "s"],
        ]
        #expect(value.canonicalString == #"{"a":{"x":"s","y":false},"z":[1,[2,[]],{},{"a":true,"b":null}]}"#)
    }

    @Test("round trip: canonical bytes parse back to the value and re-encode identically")
    func roundTrip() throws {
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<300 {
            let value = randomValue(&rng, depth: 0)
            let bytes = value.canonicalBytes()
            let parsed = try JSONValue.parse(bytes)
            #expect(parsed == value)
            #expect(parsed.canonicalBytes() == bytes)
            #expect(JSONValue.isCanonical(bytes))
        }
    }

    @Test("isCanonical refuses every non-canonical spelling")
    func notCanonical() {
        for text in [
            #"{"b":1,"a":2}"#, #"{"a": 1}"#, " 1", "1 ", #""\/""#, #""\u0041""#, #""\u001F""#, "-0", "1.0", "01",
            #"{"a":1,"a":1}"#, "[1,2 ]", #""\u00e9""#, "",
        ] {
            #expect(!JSONValue.isCanonical(Array(text.utf8)), "\(text)")
        }
        for text in [#"{"a":1,"b":[true,null,"x"]}"#, "-5", #""\u001f""#, #""é""#, "[]", "{}"] {
            #expect(JSONValue.isCanonical(Array(text.utf8)), "\(text)")
        }
    }

    @Test("CanonicalWriter in key order equals the JSONValue encoding")
    func writer() {
        var w = CanonicalWriter()
        w.beginObject()
        w.key("batch"); w.null()
        w.key("count"); w.int(2)
        w.key("kind"); w.string("readings")
        w.key("list"); w.beginArray(); w.int(-1); w.bool(true); w.beginObject(); w.endObject(); w.endArray()
        w.key("root"); w.string("/wAQ")
        w.key("v"); w.int(1)
        w.endObject()
        let value: JSONValue = [
            "batch": nil, "count": 2, "kind": "readings", "list": [-1, true, [:]], "root": "/wAQ", "v": 1,
        ]
        #expect(w.bytes == value.canonicalBytes())
        var v = CanonicalWriter(reservingCapacity: 8)
        v.value(value)
        #expect(v.bytes == w.bytes)
    }
}


/// A random JSON value with nasty strings and keys.
func randomValue(_ rng: inout SeededGenerator, depth: Int) -> JSONValue {
    switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng) {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2:
        let pick = Int.random(in: 0..<4, using: &rng)
        return .int(pick == 0 ? .min : pick == 1 ? .max : Int64.random(in: -1_000_000...1_000_000, using: &rng))
    case 3: return .string(nastyString(&rng))
    case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        var members: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) { members[nastyString(&rng, maxScalars: 4)] = randomValue(&rng, depth: depth + 1) }
        return .object(members)
    }
}

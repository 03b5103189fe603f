import Foundation
import TransparencyLog

/// Access to the copied vector files (Vectors/ is a `.copy` resource).
enum VectorFiles {
    static let root: URL = {
        guard let url = Bundle.module.url(forResource: "Vectors", withExtension: nil) else {
            fatalError("Vectors resource folder missing from the test bundle")
        }
        return url
    }()

    /// Relative paths of every .json file under `folder`, sorted.
    static func jsonFiles(under folder: String) -> [String] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        var paths: [String] = []
        for case let url as URL in walker where url.pathExtension == "json" {
            paths.append(String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1)))
        }
        return paths.sorted()
    }

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(relativePath))
    }

    static func text(_ relativePath: String) throws -> String {
        String(decoding: try data(relativePath), as: UTF8.self)
    }
}

/// A transparency-dev/merkle inclusion probe.
struct InclusionProbe: Decodable {
    let leafIdx: UInt64
    let treeSize: UInt64
    let root: Data
    let leafHash: Data
    let proof: [Data]?
    let desc: String
    let wantErr: Bool
}

/// A transparency-dev/merkle consistency probe.
struct ConsistencyProbe: Decodable {
    let size1: UInt64
    let size2: UInt64
    let root1: Data
    let root2: Data
    let proof: [Data]?
    let desc: String
    let wantErr: Bool
}

/// Maps probe byte strings onto Hash256.
///
/// Some probes use placeholder "roots" that are not 32 bytes (for example
/// base64 of "don't care 2"). Hash256 cannot hold those, so `exact` returns
/// nil for them: the typed API refuses such input before any verification.
/// `placeholder` stands in for them where a probe expects acceptance (equal
/// sizes, equal placeholder roots, empty proof): equal byte strings map to
/// equal hashes and different ones to different hashes.
enum ProbeHash {
    static func exact(_ data: Data) -> Hash256? { Hash256(bytes: data) }

    static func placeholder(_ data: Data) -> Hash256 {
        Hash256(bytes: data) ?? SHA256.hash(Array("placeholder:".utf8) + Array(data))
    }
}

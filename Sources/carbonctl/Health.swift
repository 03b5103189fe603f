import ArgumentParser

struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Is the daemon up, and how large is its ledger?")

    @OptionGroup var options: ClientOptions

    func run() throws {
        struct Answer: Decodable {
            var status: String
            var version: String
            var size: UInt64
            var last_checkpoint: String?
        }
        let response = try options.connect().get("/v1/health")
        if options.json { return print(response.text) }
        let health = try decode(Answer.self, from: response)
        printTable([
            ("status", health.status), ("version", health.version), ("ledger size", "\(health.size)"),
            ("last checkpoint", health.last_checkpoint ?? "none"),
        ])
    }
}

struct Whoami: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Which role does the daemon give you?")

    @OptionGroup var options: ClientOptions

    func run() throws {
        struct Answer: Decodable {
            var uid: UInt32?
            var gid: UInt32?
            var pid: Int32?
            var role: String
            var utility: String?
            var consumers: [String]?
            var grant: Int
        }
        let response = try options.connect().get("/v1/whoami")
        if options.json { return print(response.text) }
        let me = try decode(Answer.self, from: response)
        var rows = [("uid", me.uid.map(String.init) ?? "?"), ("gid", me.gid.map(String.init) ?? "?"), ("role", me.role)]
        if let utility = me.utility { rows.append(("utility", utility)) }
        if let consumers = me.consumers { rows.append(("consumers", consumers.joined(separator: ", "))) }
        rows.append(("grant", "#\(me.grant)"))
        printTable(rows)
    }
}

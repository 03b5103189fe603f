import ArgumentParser
import CarbonAPI

struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Is the daemon up, and how large is its ledger?")

    @OptionGroup var options: ClientOptions

    func run() throws {
        let response = try options.connect().get("/v1/health")
        if options.json { return print(response.text) }
        let health = try decode(HealthAnswer.self, from: response)
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
        let response = try options.connect().get("/v1/whoami")
        if options.json { return print(response.text) }
        let me = try decode(WhoamiAnswer.self, from: response)
        var rows = [("uid", me.uid.map(String.init) ?? "?"), ("gid", me.gid.map(String.init) ?? "?"), ("role", me.role)]
        if let utility = me.utility { rows.append(("utility", utility)) }
        if let consumers = me.consumers { rows.append(("consumers", consumers.joined(separator: ", "))) }
        rows.append(("grant", "#\(me.grant)"))
        printTable(rows)
    }
}

struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the ledger's verifier keys as the daemon serves them, the one in force first.",
        discussion: """
            For --key of verify, checkpoint and proof. An auditor checks the key against \
            one obtained another way (the operator's published key): a daemon can only \
            vouch for itself.
            """)

    @OptionGroup var options: ClientOptions

    func run() throws {
        let response = try options.connect().get("/v1/ledger/key")
        if options.json { return print(response.text) }
        for key in try decode(KeyAnswer.self, from: response).keys { print(key) }
    }
}

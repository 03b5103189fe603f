import CarbonConfig
import Testing

@Suite("Reload diff")
struct ReloadTests {
    let old = """
        [limits]
        max_connections = 512
        [[access.grant]]
        self = true
        role = "admin"
        [[access.grant]]
        uid = 1001
        role = "utility"
        utility = "zj-grid"
        """

    @Test func sameConfigChangesNothing() throws {
        let changes = Config.reloadableDiff(try parse(old), try parse(old))
        #expect(changes.isEmpty)
        #expect(!changes.requiresRestart)
    }

    @Test func grantsAndLimitsAreListed() throws {
        let new = """
            [limits]
            max_connections = 256
            idle_timeout = "2m"
            [[access.grant]]
            self = true
            role = "admin"
            [[access.grant]]
            uid = 1001
            role = "utility"
            utility = "hz-grid"
            [[access.grant]]
            group = "portal"
            role = "reader"
            """
        let changes = Config.reloadableDiff(try parse(old), try parse(new))
        #expect(changes.applied == [
            "limits.max_connections: 512 -> 256",
            "limits.idle_timeout: 1m -> 2m",
            "access.grant[1]: (uid = 1001, role = \"utility\", utility = \"zj-grid\") -> (uid = 1001, role = \"utility\", utility = \"hz-grid\")",
            "access.grant[2]: added (group = \"portal\", role = \"reader\")",
        ])
        #expect(!changes.requiresRestart)
    }

    @Test func removedGrantsAreListed() throws {
        let changes = Config.reloadableDiff(try parse(old), try parse("[[access.grant]]\nself = true\nrole = \"admin\""))
        #expect(changes.applied == ["access.grant[1]: removed (uid = 1001, role = \"utility\", utility = \"zj-grid\")"])
    }

    @Test func everythingElseNeedsARestart() throws {
        let new = old + """

            [daemon]
            socket = "/run/other.sock"
            synchronous = "normal"
            [ledger]
            origin = "example.org/other"
            [program]
            weights = { peer = 1, reduction = 1, timing = 1, green = 1 }
            factors = ["x.csv"]
            """
        let changes = Config.reloadableDiff(try parse(old), try parse(new))
        #expect(changes.applied.isEmpty)
        #expect(changes.needRestart == [
            "daemon.socket", "daemon.synchronous", "ledger.origin", "program.weights", "program.factors",
        ])
        #expect(changes.requiresRestart)
    }

    @Test func consumerGrantsPrintTheirConsumers() {
        let grant = Grant(matcher: .user("gw \"1\""), role: .consumer, consumers: ["c-1", "c-2"])
        #expect(grant.description == "user = \"gw \\\"1\\\"\", role = \"consumer\", consumers = [\"c-1\", \"c-2\"]")
    }
}

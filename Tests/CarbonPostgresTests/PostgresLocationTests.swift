import CarbonPostgres
import Testing

@Suite("postgresql:// URLs in the config")
struct PostgresLocationTests {
    @Test(arguments: [
        ("postgresql://carbon@/carbonledger?host=/run/postgresql",
         PostgresLocation(endpoint: .unixSocket(path: "/run/postgresql/.s.PGSQL.5432"), user: "carbon", database: "carbonledger")),
        ("postgresql://carbon@/carbonledger",
         PostgresLocation(endpoint: .unixSocket(path: "/var/run/postgresql/.s.PGSQL.5432"), user: "carbon", database: "carbonledger")),
        ("postgres://carbon:s%40cret@db.example:5433/ledger",
         PostgresLocation(endpoint: .tcp(host: "db.example", port: 5433), user: "carbon", password: "s@cret", database: "ledger")),
        ("postgresql://carbon@[::1]:6000/ledger?sslmode=disable&application_name=cl",
         PostgresLocation(endpoint: .tcp(host: "::1", port: 6000), user: "carbon", database: "ledger")),
        ("postgresql://%2Ftmp%2Fpg/ledger?user=carbon&port=7000",
         PostgresLocation(endpoint: .unixSocket(path: "/tmp/pg/.s.PGSQL.7000"), user: "carbon", database: "ledger")),
        ("postgresql://carbon@?host=/s&dbname=ledger",
         PostgresLocation(endpoint: .unixSocket(path: "/s/.s.PGSQL.5432"), user: "carbon", database: "ledger")),
    ])
    func goodURLsSayWhereAndWho(url: String, expected: PostgresLocation) throws {
        #expect(try PostgresLocation.parse(url) == expected)
    }

    @Test(arguments: [
        ("sqlite:///var/lib/x.db", "must start with postgresql://"),
        ("postgresql://carbon@host:0/db", "port 0 is not a number from 1 to 65535"),
        ("postgresql://carbon@host:65536/db", "port 65536"),
        ("postgresql://carbon@host:-1/db", "port -1"),
        ("postgresql://carbon@host:9223372036854775807/db", "is not a number from 1 to 65535"),
        ("postgresql://carbon@host:/db", "port  is not"),
        ("postgresql://carbon@a,b/db", "several hosts"),
        ("postgresql://@host/db", "names no user"),
        ("postgresql://carbon@host/", "names no database"),
        ("postgresql://carbon@host/db?sslmode=require", "sslmode=require"),
        ("postgresql://carbon@host/db?target_session_attrs=any", "parameter target_session_attrs"),
        ("postgresql://carbon@host/db?host=/a&host=/b", "parameter host twice"),
        ("postgresql://carbon@host/db?host=relative", "must be a socket folder"),
        ("postgresql://carbon@host/db?host=/s", "both the host host and a socket folder"),
        ("postgresql://carbon@host/d%ZZb", "database has a malformed %-escape"),
        ("postgresql://car%00bon@host/db", "user decodes to a control character"),
        ("postgresql://carbon@host/db#frag", "fragment"),
        ("postgresql://carbon@host/db b", "space or a control character"),
        ("postgresql://carbon@[::1/db", "[ without its ]"),
        ("postgresql://carbon@host/db/x", "database name has a /"),
        ("postgresql://carbon@host/db?dbname=other", "names the database twice"),
        ("postgresql://carbon@host/" + String(repeating: "d", count: 5000), "longer than 4096 bytes"),
        ("", "must start with postgresql://"),
    ])
    func badURLsAreRefusedNamingThePart(url: String, message: String) {
        #expect { try PostgresLocation.parse(url) } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func thePasswordNeverShows() throws {
        let location = try PostgresLocation.parse("postgresql://carbon:hunter2@db.example/ledger")
        #expect(location.password == "hunter2")
        #expect(!location.redacted.contains("hunter2") && location.redacted.contains("carbon:***@db.example:5432/ledger"))
        #expect { try PostgresLocation.parse("postgresql://carbon:hunter2@db.example:99999/ledger") } throws: { error in
            !"\(error)".contains("hunter2")
        }
    }
}

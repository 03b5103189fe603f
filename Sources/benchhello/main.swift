import Foundation
import Hummingbird

// The floor of the read-path benchmark: Hummingbird's own cost for one small JSON
// answer over a Unix socket, with nothing of the daemon around it.
// usage: benchhello SOCKET
let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    print("usage: benchhello SOCKET")
    exit(2)
}
let router = Router()
router.get("/hello") { _, _ in #"{"hello":"world"}"# }
let app = Application(router: router, configuration: .init(address: .unixDomainSocket(path: arguments[1])))
try await app.runService()

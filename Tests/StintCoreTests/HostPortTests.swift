import StintCore
import Testing

@Suite("HostPort: --listen addresses and STINT_URL")
struct HostPortTests {
    @Test(
        "HOST:PORT parses, with brackets for IPv6",
        arguments: [
            ("127.0.0.1:7070", "127.0.0.1", 7070), ("localhost:0", "localhost", 0), ("[::1]:8080", "::1", 8080),
            ("0.0.0.0:65535", "0.0.0.0", 65535), ("example.org:80", "example.org", 80),
        ])
    func parses(text: String, host: String, port: Int) {
        #expect(HostPort.parse(text) == HostPort(host: host, port: port))
        #expect(HostPort.parse(text)?.description == text)
    }

    @Test("malformed addresses are refused", arguments: ["7070", ":7070", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "[::1]80", "h:-1", "h:x", "a b:1"])
    func refuses(text: String) {
        #expect(HostPort.parse(text) == nil)
    }

    @Test("loopback: 127.0.0.0/8, ::1 and localhost; nothing else")
    func loopback() {
        for text in ["127.0.0.1:1", "127.1.2.3:1", "[::1]:1", "localhost:1", "LOCALHOST:1"] {
            #expect(HostPort.parse(text)?.isLoopback == true, "\(text)")
        }
        for text in ["0.0.0.0:1", "10.0.0.1:1", "[::]:1", "example.org:1", "127.0.0.1.example.org:1", "1127.0.0.1:1"] {
            #expect(HostPort.parse(text)?.isLoopback == false, "\(text)")
        }
    }

    @Test("STINT_URL: http://HOST[:PORT][/]")
    func url() throws {
        #expect(try HostPort.parse(url: "http://127.0.0.1:7070") == HostPort(host: "127.0.0.1", port: 7070))
        #expect(try HostPort.parse(url: "http://127.0.0.1:7070/") == HostPort(host: "127.0.0.1", port: 7070))
        #expect(try HostPort.parse(url: "HTTP://[::1]:9") == HostPort(host: "::1", port: 9))
        #expect(try HostPort.parse(url: "http://localhost") == HostPort(host: "localhost", port: 80))
    }

    @Test("STINT_URL: https and anything but http://HOST:PORT are usage errors", arguments: [
        "https://127.0.0.1:7070", "127.0.0.1:7070", "ftp://h:1", "http://h:1/api", "http://u@h:1", "http://h:0", "http://",
    ])
    func badURL(url: String) {
        let error = #expect(throws: StintError.self) { try HostPort.parse(url: url) }
        #expect(error?.code == .usage)
        if url.hasPrefix("https") { #expect(error?.message.contains("https is not supported") == true) }
    }
}

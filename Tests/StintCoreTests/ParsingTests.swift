import Foundation
import StintCore
import Testing

@Suite("DurationParser")
struct DurationParserTests {
    @Test(
        "valid durations",
        arguments: [
            ("90", 90.0),
            ("0", 0),
            ("1.5", 1.5),
            ("0.25", 0.25),
            ("250ms", 0.25),
            ("1ms", 0.001),
            ("1.5s", 1.5),
            ("45s", 45),
            ("10m", 600),
            ("2h", 7200),
            ("7d", 604_800),
            ("1h30m", 5400),
            ("1h30m15s", 5415),
            ("1d2h3m4s5ms", 93_784.005),
            ("2m500ms", 120.5),
            ("1.5h", 5400),
            ("0.5d", 43_200),
            (" 1h 30m ", 5400),
            ("1H30M", 5400),
            ("10M", 600),
        ])
    func valid(text: String, seconds: Double) throws {
        let parsed = try #require(DurationParser.seconds(text), "\(text)")
        #expect(abs(parsed - seconds) < 1e-9, "\(text) → \(parsed), expected \(seconds)")
    }

    @Test("ms is not read as minutes")
    func millisecondsAreNotMinutes() {
        #expect(DurationParser.seconds("5ms") == 0.005)
        #expect(DurationParser.seconds("5m") == 300)
    }

    @Test(
        "invalid durations",
        arguments: [
            "", "   ", "abc", "s", "10x", "10 x", "5m1h", "1s1m", "1ms1s", "1m1m", "1h1h", "-5",
            "-5s", "-1h30m", "1.5.5s", "1.5.5", ".", ".s", "1h30", "h1", "1h-30m", "inf", "nan",
            "1e400", "10sec", "1y", "1w", "1h30m!",
        ])
    func invalid(text: String) {
        #expect(DurationParser.seconds(text) == nil, "\(text) → \(String(describing: DurationParser.seconds(text)))")
    }
}

@Suite("ByteSizeParser")
struct ByteSizeParserTests {
    @Test(
        "valid sizes",
        arguments: [
            ("1048576", Int64(1_048_576)),
            ("0", 0),
            ("0K", 0),
            ("100B", 100),
            ("100b", 100),
            ("512K", 524_288),
            ("512k", 524_288),
            ("512KB", 524_288),
            ("512KiB", 524_288),
            ("1MiB", 1_048_576),
            ("1mib", 1_048_576),
            ("64M", 67_108_864),
            ("64MB", 67_108_864),
            ("2G", 2_147_483_648),
            ("2GiB", 2_147_483_648),
            ("1T", 1_099_511_627_776),
            ("1.5K", 1536),
            ("0.5M", 524_288),
            ("1 MiB", 1_048_576),
        ])
    func valid(text: String, bytes: Int64) {
        #expect(ByteSizeParser.bytes(text) == bytes, "\(text)")
    }

    @Test(
        "invalid sizes",
        arguments: [
            "", " ", "abc", "K", "MiB", "-1", "-1K", "-0.5M", "1X", "1KK", "1Kib2", "1.2.3",
            "1.2.3K", "1e3", "12 34x", "1PiB", "64 megabytes", "10000000T",
        ])
    func invalid(text: String) {
        #expect(ByteSizeParser.bytes(text) == nil, "\(text) → \(String(describing: ByteSizeParser.bytes(text)))")
    }

    @Test(
        "format",
        arguments: [
            (Int64(0), "0 B"),
            (1, "1 B"),
            (512, "512 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (524_288, "512.0 KiB"),
            (1_048_576, "1.0 MiB"),
            (67_108_864, "64.0 MiB"),
            (2_147_483_648, "2.0 GiB"),
            (1_099_511_627_776, "1.0 TiB"),
            (1 << 50, "1024.0 TiB"),
        ])
    func format(bytes: Int64, text: String) {
        #expect(ByteSizeParser.format(bytes) == text)
    }

    @Test("format rounds to tenths")
    func formatRounds() {
        #expect(ByteSizeParser.format(1024 + 100) == "1.1 KiB")
        #expect(ByteSizeParser.format(10 * 1024 + 1000) == "11.0 KiB")
    }

    @Test(
        "what format writes parses back to the same size",
        arguments: [Int64(0), 1, 512, 1023, 1024, 1536, 524_288, 1_048_576, 67_108_864, 2_147_483_648, 1 << 40])
    func roundTrip(bytes: Int64) {
        #expect(ByteSizeParser.bytes(ByteSizeParser.format(bytes)) == bytes)
    }

    @Test("the default output cap is 64 MiB")
    func defaultCap() {
        #expect(JobSpec.defaultOutputCap == 67_108_864)
        #expect(ByteSizeParser.bytes("64MiB") == JobSpec.defaultOutputCap)
        #expect(ByteSizeParser.format(JobSpec.defaultOutputCap) == "64.0 MiB")
    }
}

@Suite("ShellQuoting")
struct ShellQuotingTests {
    @Test(
        "quote",
        arguments: [
            ("", "''"),
            ("abc", "abc"),
            ("/usr/bin/make", "/usr/bin/make"),
            ("-j8", "-j8"),
            ("key=value,a:b@c%d+e", "'key=value,a:b@c%d+e'"),
            ("a:b@c%d+e", "a:b@c%d+e"),
            ("file_1.txt", "file_1.txt"),
            ("hello world", "'hello world'"),
            ("it's", "'it'\\''s'"),
            ("'", "''\\'''"),
            ("$HOME", "'$HOME'"),
            ("a*b", "'a*b'"),
            ("~/x", "'~/x'"),
            ("a\"b", "'a\"b'"),
            ("a;b", "'a;b'"),
            ("line1\nline2", "'line1\nline2'"),
            ("back\\slash", "'back\\slash'"),
            ("$(rm -rf /)", "'$(rm -rf /)'"),
        ])
    func quote(word: String, quoted: String) {
        #expect(ShellQuoting.quote(word) == quoted)
    }

    @Test("join quotes each word and separates them with one space")
    func join() {
        #expect(ShellQuoting.join([]) == "")
        #expect(ShellQuoting.join(["echo", "hello world", "it's", ""]) == "echo 'hello world' 'it'\\''s' ''")
    }

    @Test("/bin/sh reads quoted words back unchanged")
    func shellRoundTrip() throws {
        let words = [
            "plain", "hello world", "it's", "", "'", "''", "$HOME", "`id`", "$(echo no)", "a*b?",
            "tab\there", "line1\nline2", "back\\slash", "\"double\"", "semi;colon", "a|b&c", "~",
            "#hash", "ünïcødé", "  leading and trailing  ",
        ]
        let script = "printf '[%s]' " + ShellQuoting.join(words)
        let output = try runShell(script)
        #expect(output == words.map { "[\($0)]" }.joined())
    }

    @Test("displayCommand of argv is a shell command that runs the same argv")
    func displayCommandRoundTrip() throws {
        let spec = JobSpec(argv: ["printf", "[%s]", "a b", "it's", ""], cwd: "/")
        let output = try runShell(spec.displayCommand)
        #expect(output == "[a b][it's][]")
    }

    private func runShell(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }
}

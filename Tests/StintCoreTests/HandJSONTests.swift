import Foundation
import StintCore
import Testing

/// A seeded generator, so a failing case can be reproduced.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Strings that exercise escaping: quotes, backslashes, slashes, every control
/// character, DEL, non-ASCII, astral scalars, combining marks, and the empty string.
private let awkwardStrings: [String] = [
    "", "plain", "with space", "quote \" inside", "back\\slash", "a/b/c", "\\\"\\", "tab\there", "line\nbreak",
    "cr\rlf\r\n", "\u{7F}del", "é café", "日本語", "emoji 😀👍🏽", "e\u{301} combining", "\u{2028}\u{2029}", "\u{FEFF}bom",
    "nul-free \u{1}\u{2}\u{1F}", String((1..<32).map { Character(Unicode.Scalar(UInt8($0))) }), "ends with \\",
    "{\"json\":\"inside\"}", "💩💩💩", "\u{10FFFF}",
]

private func randomString(_ random: inout SplitMix64) -> String {
    if Bool.random(using: &random) { return awkwardStrings.randomElement(using: &random)! }
    let scalars: [Unicode.Scalar] = (0..<Int.random(in: 0...12, using: &random)).map { _ in
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return Unicode.Scalar(UInt8.random(in: 1...0x7F, using: &random))
        case 1: return Unicode.Scalar(UInt32.random(in: 0xA0...0xD7FF, using: &random))!
        case 2: return Unicode.Scalar(UInt32.random(in: 0x1F300...0x1FAFF, using: &random))!
        default: return Unicode.Scalar(UInt8.random(in: 0...0x1F, using: &random))
        }
    }
    return String(String.UnicodeScalarView(scalars))
}

private func randomDouble(_ random: inout SplitMix64) -> Double {
    let special: [Double] = [0, -0.0, 0.1, 1.5, 90, 1e-7, 1e300, 5e20, 123_456.789, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 3600]
    if Bool.random(using: &random) { return special.randomElement(using: &random)! }
    return Double.random(in: 0...1e6, using: &random)
}

private func maybe<T>(_ random: inout SplitMix64, _ make: (inout SplitMix64) -> T) -> T? {
    Bool.random(using: &random) ? make(&random) : nil
}

private func randomSpec(_ random: inout SplitMix64) -> JobSpec {
    let useArgv = Bool.random(using: &random)
    var env: [String: String] = [:]
    for _ in 0..<Int.random(in: 0...5, using: &random) { env[randomString(&random)] = randomString(&random) }
    env["PATH"] = "/usr/bin:/bin"
    env["snake_case_KEY"] = "kept as it is"
    env["camelCaseKey"] = "kept as it is"
    var labels: [String: String] = [:]
    for _ in 0..<Int.random(in: 0...3, using: &random) { labels[randomString(&random)] = randomString(&random) }
    var spec = JobSpec(
        argv: useArgv ? (0..<Int.random(in: 0...4, using: &random)).map { _ in randomString(&random) } : nil,
        shell: useArgv ? nil : randomString(&random), cwd: "/" + randomString(&random), env: env, labels: labels,
        session: maybe(&random, randomString), timeout: maybe(&random, randomDouble),
        outputCap: maybe(&random) { Int64.random(in: 0...Int64.max, using: &$0) }, hold: maybe(&random) { Bool.random(using: &$0) },
        queue: maybe(&random, randomString), priority: maybe(&random) { Int.random(in: Int.min...Int.max, using: &$0) },
        runAt: maybe(&random) { Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_000_000_000_000, using: &$0)) / 1000) },
        delay: maybe(&random, randomDouble), after: maybe(&random) { random in (0..<Int.random(in: 0...3, using: &random)).map { _ in Int64.random(in: 1...Int64.max, using: &random) } },
        unique: maybe(&random, randomString), retries: maybe(&random) { Int.random(in: -5...1000, using: &$0) },
        retryOn: maybe(&random) { random in (0..<Int.random(in: 0...3, using: &random)).map { _ in Int.random(in: 1...255, using: &random) } },
        transientPattern: maybe(&random, randomString), backoffMin: maybe(&random, randomDouble),
        backoffMax: maybe(&random, randomDouble), stallAfter: maybe(&random, randomDouble))
    spec.notify = maybe(&random, randomString)
    spec.onEnd = maybe(&random, randomString)
    return spec
}

/// Every field set, with awkward values.
private let fullSpec: JobSpec = {
    var spec = JobSpec(
        argv: awkwardStrings, shell: nil, cwd: "/tmp/dir with \"quotes\"/ü", env: Dictionary(uniqueKeysWithValues: awkwardStrings.enumerated().map { ("K\($0.offset)_\($0.element)", $0.element) }),
        labels: ["team": "ops/α", "": "empty key", "quote\"": "\\"], session: "s-1", timeout: 1.5, outputCap: 64 << 20, hold: true,
        queue: "gpu", priority: -3, runAt: Date(timeIntervalSince1970: 1_795_276_784.123), delay: 30, after: [1, 2, Int64.max],
        unique: "key\u{0}?", retries: 3, retryOn: [3, 75, 255], transientPattern: "^(ECONNRESET|timeout)\\s+\\d+$",
        backoffMin: 0.25, backoffMax: 300, stallAfter: 45)
    spec.notify = "http://example.invalid/hook?a=1&b=\"2\""
    spec.onEnd = "echo \"$STINT_JOB_ID\" >> /tmp/ended\n"
    return spec
}()

@Suite("JSONWriter")
struct JSONWriterTests {
    private func decodedBoth(_ request: AddRequest) throws -> (hand: [JobSpec], foundation: [JobSpec]) {
        let hand = try #require(request.handWrittenJSON())
        let foundation = try StintJSON.encoder().encode(request)
        let decoder = StintJSON.decoder()
        return (try decoder.decode(AddRequest.self, from: Data(hand)).jobs, try decoder.decode(AddRequest.self, from: foundation).jobs)
    }

    @Test("a spec with every field set decodes to the same spec as JSONEncoder's")
    func fullSpecAgrees() throws {
        let (hand, foundation) = try decodedBoth(AddRequest(jobs: [fullSpec]))
        #expect(hand == foundation)
        #expect(hand == [fullSpec])
    }

    @Test("the smallest spec, and one of empty strings, agree")
    func emptySpecs() throws {
        let smallest = JobSpec(argv: ["true"], cwd: "/")
        let empties = JobSpec(argv: [], shell: "", cwd: "", env: ["": ""], labels: ["": ""], session: "", queue: "", unique: "", transientPattern: "")
        let (hand, foundation) = try decodedBoth(AddRequest(jobs: [smallest, empties]))
        #expect(hand == foundation)
        #expect(hand == [smallest, empties])
        #expect(try decodedBoth(AddRequest(jobs: [])).hand == [])
    }

    @Test("two thousand random specs, in batches, decode to the same specs as JSONEncoder's")
    func randomSpecsAgree() throws {
        var random = SplitMix64(state: 14)
        for _ in 0..<200 {
            let specs = (0..<10).map { _ in randomSpec(&random) }
            let (hand, foundation) = try decodedBoth(AddRequest(jobs: specs))
            #expect(hand == foundation)
            #expect(hand == specs)
        }
    }

    @Test("the output is JSON that JSONSerialization reads, keys snake_case as the encoder writes them")
    func sameKeys() throws {
        let hand = try #require(AddRequest(jobs: [fullSpec]).handWrittenJSON())
        let foundation = try StintJSON.encoder().encode(AddRequest(jobs: [fullSpec]))
        let handObject = try #require(try JSONSerialization.jsonObject(with: Data(hand)) as? [String: [[String: Any]]])
        let foundationObject = try #require(try JSONSerialization.jsonObject(with: foundation) as? [String: [[String: Any]]])
        #expect(Set(try #require(handObject["jobs"]?.first).keys) == Set(try #require(foundationObject["jobs"]?.first).keys))
    }

    @Test("a number JSON cannot hold is left to JSONEncoder")
    func nonFinite() {
        for value in [Double.infinity, -.infinity, .nan] {
            #expect(AddRequest(jobs: [JobSpec(argv: ["x"], cwd: "/", timeout: value)]).handWrittenJSON() == nil)
            #expect(AddRequest(jobs: [JobSpec(argv: ["x"], cwd: "/", stallAfter: value)]).handWrittenJSON() == nil)
            #expect(WaitRequest(ids: [1], timeout: value).handWrittenJSON() == nil)
        }
    }

    @Test("wait requests agree with JSONEncoder's, every condition but idle")
    func waitRequests() throws {
        let decoder = StintJSON.decoder()
        let requests = [
            WaitRequest(ids: [1]), WaitRequest(ids: [1, 2, Int64.max], any: true, timeout: 0),
            WaitRequest(ids: [7], timeout: 29.999_999, until: .end), WaitRequest(ids: [7], until: .stall),
            WaitRequest(ids: [7], until: .output("listening on \"port\" \\d+ 😀\n")),
        ]
        for request in requests {
            let hand = try decoder.decode(WaitRequest.self, from: Data(try #require(request.handWrittenJSON())))
            let foundation = try decoder.decode(WaitRequest.self, from: try StintJSON.encoder().encode(request))
            #expect(hand.ids == foundation.ids)
            #expect(hand.any == foundation.any)
            #expect(hand.timeout == foundation.timeout)
            #expect(hand.until == foundation.until)
        }
        #expect(WaitRequest(ids: [1], until: .idle(30)).handWrittenJSON() == nil)
    }
}

private func randomJob(_ random: inout SplitMix64, id: Int64) -> JobView {
    let state = JobState.allCases.randomElement(using: &random)!
    let reason = maybe(&random) { AttemptReason.allCases.randomElement(using: &$0)! }
    var job = JobView(
        id: id, state: state, queue: randomString(&random), command: randomString(&random), argv: [randomString(&random)],
        shell: Bool.random(using: &random), cwd: "/", labels: ["k": randomString(&random)], session: maybe(&random, randomString),
        timeout: maybe(&random, randomDouble), outputCap: 1 << 20, createdAt: Date(timeIntervalSince1970: 1_795_276_784.5),
        startedAt: maybe(&random) { _ in Date(timeIntervalSince1970: 1_795_276_785) }, endedAt: nil,
        duration: maybe(&random, randomDouble), attempts: Int.random(in: 0...5, using: &random),
        exitCode: maybe(&random) { Int.random(in: 0...255, using: &$0) }, signal: maybe(&random) { Int.random(in: 1...64, using: &$0) },
        reason: reason, log: maybe(&random, randomString))
    job.stallLine = maybe(&random, randomString)
    job.unique = maybe(&random, randomString)
    return job
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test("AddResponse read by hand equals JSONDecoder's, over many answers")
    func addResponses() throws {
        var random = SplitMix64(state: 4)
        var responses = [AddResponse(ids: []), AddResponse(ids: [1]), AddResponse(ids: [Int64.max], duplicates: [Int64.max], states: [.held])]
        for _ in 0..<200 {
            let ids = (0..<Int.random(in: 1...20, using: &random)).map { _ in Int64.random(in: 1...Int64.max, using: &random) }
            responses.append(
                AddResponse(
                    ids: ids, duplicates: ids.filter { _ in Bool.random(using: &random) },
                    states: ids.map { _ in JobState.allCases.randomElement(using: &random)! }))
        }
        for response in responses {
            let body = try StintJSON.encoder().encode(Envelope.ok(response))
            let decoded = try #require(try StintJSON.decoder().decode(Envelope<AddResponse>.self, from: body).data)
            let hand = try #require(JSONValue.parse(body)?.okEnvelopeData.flatMap(AddResponse.init(json:)))
            #expect(hand.ids == decoded.ids)
            #expect(hand.duplicate == decoded.duplicate)
            #expect(hand.duplicates == decoded.duplicates)
            #expect(hand.states == decoded.states)
        }
    }

    @Test("an AddResponse from an older daemon (ids only) reads as JSONDecoder reads it")
    func olderAddResponse() throws {
        let body = Data(#"{"status":"ok","data":{"ids":[3,4]}}"#.utf8)
        let decoded = try #require(try StintJSON.decoder().decode(Envelope<AddResponse>.self, from: body).data)
        let hand = try #require(JSONValue.parse(body)?.okEnvelopeData.flatMap(AddResponse.init(json:)))
        #expect(hand.ids == decoded.ids && hand.duplicate == decoded.duplicate && hand.duplicates == decoded.duplicates)
        #expect(hand.states == decoded.states)
    }

    @Test("WaitOutcome read by hand equals the one from JSONDecoder's WaitResponse, over many answers")
    func waitResponses() throws {
        var random = SplitMix64(state: 9)
        for round in 0..<300 {
            let jobs = (0..<Int.random(in: 0...4, using: &random)).map { randomJob(&random, id: Int64(round * 10 + $0 + 1)) }
            let response = WaitResponse(
                done: Bool.random(using: &random), jobs: jobs, reason: maybe(&random) { WaitReason.allCases.randomElement(using: &$0)! },
                reasons: maybe(&random) { random in jobs.map { _ in maybe(&random) { WaitReason.allCases.randomElement(using: &$0)! } } },
                match: maybe(&random, randomString))
            let body = try StintJSON.encoder().encode(Envelope.ok(response))
            let decoded = try #require(try StintJSON.decoder().decode(Envelope<WaitResponse>.self, from: body).data)
            let hand = try #require(JSONValue.parse(body)?.okEnvelopeData.flatMap(WaitOutcome.init(json:)))
            #expect(hand == WaitOutcome(decoded))
        }
    }

    @Test("an error envelope has no ok data")
    func errorEnvelope() throws {
        let body = try StintJSON.encoder().encode(Envelope<Empty>.failure(StintError(.notFound, "no job 5")))
        #expect(JSONValue.parse(body) != nil)
        #expect(JSONValue.parse(body)?.okEnvelopeData == nil)
        #expect(JSONValue.parse(Data(#"{"status":"ok","data":null}"#.utf8))?.okEnvelopeData == nil)
    }

    @Test("strings read as JSONDecoder reads them, escapes and surrogate pairs included")
    func strings() throws {
        for text in awkwardStrings {
            let body = try StintJSON.encoder().encode([text])
            #expect(JSONValue.parse(body) == .array([.string(text)]))
        }
        let escaped = Data(#"["\u00e9\u0041\ud83d\ude00\/\b\f\n\"\\"]"#.utf8)
        let decoded = try JSONDecoder().decode([String].self, from: escaped)
        #expect(JSONValue.parse(escaped) == .array([.string(decoded[0])]))
    }

    @Test("numbers keep their text and convert exactly")
    func numbers() throws {
        let value = try #require(JSONValue.parse(Data("[0, -1, 9223372036854775807, 1.5, 1e-07, 2E+3, -0.0]".utf8))?.arrayValue)
        #expect(value[0].integer(Int64.self) == 0)
        #expect(value[1].integer(Int64.self) == -1)
        #expect(value[2].integer(Int64.self) == Int64.max)
        #expect(value[3].integer(Int64.self) == nil)
        #expect(value[3].doubleValue == 1.5)
        #expect(value[4].doubleValue == 1e-7)
        #expect(value[5].doubleValue == 2000)
        #expect(value[6].doubleValue == 0)
    }

    @Test("what is not JSON is refused, and what is JSON is read, as JSONSerialization does")
    func invalid() {
        let samples = [
            "", " ", "{", "}", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "01", "1.", ".5", "-", "1e",
            "+1", "tru", "nul", "\"unterminated", "\"bad \\x escape\"", "\"\\ud83d alone\"", "\"raw \n newline\"", "[1] 2",
            "{\"a\":1}", "[true,false,null]", "\"\\u00e9\"", " [ 1 , { \"b\" : [ ] } ] ",
        ]
        for sample in samples {
            let data = Data(sample.utf8)
            let foundation = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil
            #expect((JSONValue.parse(data) != nil) == foundation, "\(sample)")
        }
    }

    @Test("trailing commas, which JSONSerialization lets through, are refused: the client then asks JSONDecoder")
    func trailingCommas() {
        #expect(JSONValue.parse(Data("[1,]".utf8)) == nil)
        #expect(JSONValue.parse(Data("{\"a\":1,}".utf8)) == nil)
    }

    @Test("nesting is bounded")
    func deepNesting() {
        #expect(JSONValue.parse(Data((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)) != nil)
        #expect(JSONValue.parse(Data(String(repeating: "[", count: 100_000).utf8)) == nil)
    }
}

import StintCore
import StintPostgres
import Testing

@Suite("PostgresURL")
struct PostgresURLTests {
    @Test("user, password, host, port and database are read; the password never shows")
    func parses() throws {
        let url = try PostgresURL.parse("postgres://stint:s3cr%40t@db.internal:6543/jobs")
        #expect(url.user == "stint")
        #expect(url.password == "s3cr@t")
        #expect(url.host == "db.internal")
        #expect(url.port == 6543)
        #expect(url.database == "jobs")
        #expect(url.description == "postgres://stint:***@db.internal:6543/jobs")
        #expect(!url.description.contains("s3cr"))
    }

    @Test("the port defaults to 5432; postgresql:// and IPv6 hosts are taken")
    func defaults() throws {
        let plain = try PostgresURL.parse("postgresql://me@localhost/stint")
        #expect(plain.port == 5432 && plain.password == nil)
        #expect(plain.description == "postgres://me@localhost:5432/stint")
        let six = try PostgresURL.parse("postgres://me@[::1]:7000/stint")
        #expect(six.host == "::1" && six.port == 7000)
        #expect(six.description == "postgres://me@[::1]:7000/stint")
        // A password may hold '@' and ':' unencoded: the last '@' ends the credentials.
        let odd = try PostgresURL.parse("postgres://me:a@b:c@host/db")
        #expect(odd.password == "a@b:c" && odd.host == "host")
    }

    @Test("a URL without a user, a database, a valid host or port, or with options is refused with E_USAGE", arguments: [
        "postgres://host/db", "postgres://@host/db", "postgres://me@host", "postgres://me@host/", "postgres://me@:5432/db",
        "postgres://me@host:0/db", "postgres://me@host:70000/db", "postgres://me@host/db?sslmode=require",
        "postgres://me@host/db/extra", "mysql://me@host/db", "postgres://me%zz@host/db",
    ])
    func refuses(_ text: String) {
        #expect(throws: StintError.self) { try PostgresURL.parse(text) }
        #expect((try? PostgresURL.parse(text)) == nil)
        do {
            _ = try PostgresURL.parse(text)
        } catch {
            #expect(error.code == .usage)
        }
    }
}

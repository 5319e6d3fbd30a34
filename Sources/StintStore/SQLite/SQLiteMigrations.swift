import GRDB

/// The versioned schema of the SQLite store. Migrations are append-only: a released
/// migration is never edited, a change is a new one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs-and-attempts") { db in
            // Many jobs share one environment (a script enqueuing thousands), so each
            // distinct environment is stored once.
            try db.execute(
                sql: """
                    CREATE TABLE environments (
                        id INTEGER PRIMARY KEY,
                        json TEXT NOT NULL UNIQUE
                    );
                    CREATE TABLE jobs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        state TEXT NOT NULL,
                        queue TEXT NOT NULL DEFAULT 'default',
                        priority INTEGER NOT NULL DEFAULT 0,
                        argv TEXT NOT NULL,
                        shell TEXT,
                        cwd TEXT NOT NULL,
                        env_id INTEGER NOT NULL REFERENCES environments(id),
                        labels TEXT NOT NULL DEFAULT '{}',
                        session TEXT,
                        timeout REAL,
                        output_cap INTEGER NOT NULL,
                        created_at REAL NOT NULL,
                        run_at REAL,
                        ended_at REAL,
                        attempts INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX jobs_runnable ON jobs (priority DESC, id) WHERE state = 'queued';
                    CREATE INDEX jobs_session ON jobs (session, id) WHERE session IS NOT NULL;
                    CREATE INDEX jobs_ended ON jobs (ended_at) WHERE ended_at IS NOT NULL;
                    CREATE TABLE attempts (
                        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                        number INTEGER NOT NULL,
                        started_at REAL NOT NULL,
                        ended_at REAL,
                        exit_code INTEGER,
                        signal INTEGER,
                        reason TEXT,
                        message TEXT,
                        host TEXT NOT NULL,
                        shim_pid INTEGER,
                        peak_rss INTEGER,
                        output_bytes INTEGER,
                        dropped_bytes INTEGER,
                        PRIMARY KEY (job_id, number)
                    );
                    CREATE INDEX attempts_running ON attempts (job_id) WHERE ended_at IS NULL;
                    """)
        }
        return migrator
    }
}

using Microsoft.Data.Sqlite;

namespace X402Serverless.Sqlite;

/// <summary>Schema migrations, applied in order and recorded in PRAGMA user_version.</summary>
internal static class SqliteSchema
{
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE organisations (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            is_operator INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE access_keys (
            id TEXT PRIMARY KEY,
            organisation_id TEXT NOT NULL REFERENCES organisations(id),
            key_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE links (
            id TEXT PRIMARY KEY,
            organisation_id TEXT NOT NULL REFERENCES organisations(id),
            name TEXT,
            description TEXT,
            upstream TEXT NOT NULL,
            price TEXT NOT NULL,
            pay_to TEXT NOT NULL,
            networks TEXT NOT NULL,
            methods TEXT NOT NULL,
            sealed_upstream_headers TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX links_by_organisation ON links(organisation_id, created_at);
        CREATE TABLE payments (
            id TEXT PRIMARY KEY,
            link_id TEXT NOT NULL,
            organisation_id TEXT NOT NULL,
            network TEXT NOT NULL,
            asset TEXT NOT NULL,
            payer TEXT NOT NULL,
            pay_to TEXT NOT NULL,
            nonce TEXT NOT NULL,
            amount TEXT NOT NULL,
            x402_version INTEGER NOT NULL,
            status TEXT NOT NULL,
            tx_hash TEXT,
            failure_reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX payments_by_organisation ON payments(organisation_id, created_at);
        """,
        """
        ALTER TABLE payments ADD COLUMN mode TEXT NOT NULL DEFAULT 'sync';
        ALTER TABLE payments ADD COLUMN facilitator TEXT NOT NULL DEFAULT 'remote';
        ALTER TABLE payments ADD COLUMN settle_request TEXT;
        ALTER TABLE payments ADD COLUMN valid_before INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE payments ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE payments ADD COLUMN next_attempt_at TEXT;
        ALTER TABLE payments ADD COLUMN lease_until TEXT;
        ALTER TABLE payments ADD COLUMN last_error TEXT;
        CREATE INDEX payments_due ON payments(status, next_attempt_at);
        CREATE INDEX payments_by_payer ON payments(payer, mode, status);
        """,
        """
        ALTER TABLE links ADD COLUMN settlement TEXT NOT NULL DEFAULT 'sync';
        ALTER TABLE links ADD COLUMN facilitator TEXT;
        ALTER TABLE links ADD COLUMN verify_on_chain INTEGER NOT NULL DEFAULT 0;
        """,
        """
        CREATE TABLE ledger_entries (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            memo TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE ledger_postings (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            entry_key TEXT NOT NULL REFERENCES ledger_entries(key),
            account TEXT NOT NULL,
            amount INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX postings_by_account ON ledger_postings(account, seq);
        CREATE TABLE ledger_balances (
            account TEXT PRIMARY KEY,
            balance INTEGER NOT NULL,
            floor INTEGER NOT NULL
        );
        CREATE TABLE spend_counters (
            key TEXT PRIMARY KEY,
            used INTEGER NOT NULL
        );
        """,
        """
        CREATE TABLE payers (
            id TEXT PRIMARY KEY,
            organisation_id TEXT NOT NULL REFERENCES organisations(id),
            name TEXT NOT NULL,
            monthly_allowance INTEGER NOT NULL,
            monthly_cap INTEGER,
            credit_limit INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX payers_by_organisation ON payers(organisation_id);
        CREATE TABLE payer_keys (
            id TEXT PRIMARY KEY,
            payer_id TEXT NOT NULL REFERENCES payers(id),
            key_hash TEXT NOT NULL UNIQUE
        );
        ALTER TABLE organisations ADD COLUMN monthly_budget INTEGER;
        ALTER TABLE links ADD COLUMN accepts TEXT NOT NULL DEFAULT '["x402"]';
        ALTER TABLE links ADD COLUMN charge_on TEXT NOT NULL DEFAULT '2xx';
        ALTER TABLE links ADD COLUMN daily_cap_per_payer INTEGER;
        CREATE TABLE stripe_events (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            payload TEXT NOT NULL,
            received_at TEXT NOT NULL,
            processed_at TEXT,
            outcome TEXT
        );
        """,
        """
        CREATE TABLE kyc_events (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            payload TEXT NOT NULL,
            received_at TEXT NOT NULL,
            processed_at TEXT,
            outcome TEXT
        );
        CREATE TABLE kyc_records (
            subject_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            level TEXT NOT NULL,
            country TEXT,
            reference TEXT NOT NULL,
            wallets TEXT NOT NULL,
            decided_at TEXT NOT NULL
        );
        CREATE TABLE kyc_wallets (
            address TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL
        );
        CREATE INDEX kyc_wallets_by_subject ON kyc_wallets(subject_id);
        ALTER TABLE links ADD COLUMN kyc_level TEXT NOT NULL DEFAULT 'none';
        """,
        """
        ALTER TABLE payer_keys ADD COLUMN prefix TEXT NOT NULL DEFAULT 'x402pk_';
        ALTER TABLE payer_keys ADD COLUMN created_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.0000000Z';
        CREATE INDEX payer_keys_by_payer ON payer_keys(payer_id);
        """,
        """
        ALTER TABLE payments ADD COLUMN content_owed INTEGER NOT NULL DEFAULT 0;
        """,
        """
        CREATE TABLE usage_daily (
            organisation_id TEXT NOT NULL,
            link_id TEXT NOT NULL,
            day TEXT NOT NULL,
            kind TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (organisation_id, link_id, day, kind)
        );
        """,
        """
        ALTER TABLE links ADD COLUMN kyc_countries TEXT NOT NULL DEFAULT '[]';
        """,
        """
        ALTER TABLE links ADD COLUMN deferred_payers TEXT NOT NULL DEFAULT 'returning';
        """,
        """
        ALTER TABLE links ADD COLUMN price_rules TEXT NOT NULL DEFAULT '[]';
        """,
        """
        ALTER TABLE links ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE links ADD COLUMN listing TEXT;
        CREATE INDEX links_listed ON links(created_at, id) WHERE listed = 1;
        """,
        """
        CREATE TABLE signup_nonces (
            nonce TEXT PRIMARY KEY,
            expires_at TEXT NOT NULL,
            used INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX signup_nonces_by_expiry ON signup_nonces(expires_at);
        CREATE TABLE wallet_bindings (
            role TEXT NOT NULL,
            wallet TEXT NOT NULL,
            account_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (role, wallet)
        );
        """,
        """
        CREATE TABLE link_health (
            link_id TEXT PRIMARY KEY,
            organisation_id TEXT NOT NULL,
            up INTEGER NOT NULL,
            checked_at TEXT NOT NULL,
            status INTEGER,
            failure TEXT,
            consecutive_failures INTEGER NOT NULL,
            last_up_at TEXT
        );
        """,
        """
        ALTER TABLE links ADD COLUMN rate_limit TEXT;
        """,
        """
        CREATE TABLE payment_identifiers (
            link_id TEXT NOT NULL,
            payer TEXT NOT NULL,
            id TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            owner TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            completed INTEGER NOT NULL DEFAULT 0,
            status INTEGER,
            headers TEXT,
            body BLOB,
            PRIMARY KEY (link_id, payer, id)
        );
        CREATE INDEX payment_identifiers_by_expiry ON payment_identifiers(expires_at);
        ALTER TABLE links ADD COLUMN payment_identifier_required INTEGER NOT NULL DEFAULT 0;
        """,
        """
        ALTER TABLE links ADD COLUMN inbox TEXT;
        CREATE TABLE inbox_messages (
            id TEXT PRIMARY KEY,
            link_id TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX inbox_messages_due ON inbox_messages(next_attempt_at) WHERE status IN ('queued', 'sending');
        """,
        """
        CREATE TABLE webhook_endpoints (
            id TEXT PRIMARY KEY,
            organisation_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            endpoint TEXT NOT NULL
        );
        CREATE INDEX webhook_endpoints_by_organisation ON webhook_endpoints(organisation_id, created_at);
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            endpoint_id TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            delivery TEXT NOT NULL
        );
        CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, created_at);
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status IN ('pending', 'sending');
        """,
    ];

    public static void Apply(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        long version;
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "PRAGMA user_version;";
            version = (long)read.ExecuteScalar()!;
        }
        for (var i = (int)version; i < Migrations.Length; i++)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations[i] + $"\nPRAGMA user_version = {i + 1};";
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }
}

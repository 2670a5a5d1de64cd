using Microsoft.Data.Sqlite;

namespace X402Serverless.Sqlite;

/// <summary>Schema migrations, applied in order and recorded in PRAGMA user_version.</summary>
internal static class SqliteSchema
{
    internal static readonly string[] Migrations =
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
        CREATE TABLE transfer_claims (
            tx_hash TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            link_id TEXT NOT NULL,
            lease_until TEXT NOT NULL,
            consumed INTEGER NOT NULL DEFAULT 0,
            payment_id TEXT
        );
        """,
        """
        ALTER TABLE inbox_messages ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
        ALTER TABLE inbox_messages ADD COLUMN refund_pending INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE inbox_messages ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
        UPDATE inbox_messages SET created_at = json_extract(message, '$.createdAt'), updated_at = json_extract(message, '$.updatedAt');
        CREATE INDEX inbox_messages_by_link ON inbox_messages(link_id, created_at, id);
        CREATE INDEX inbox_messages_refunds ON inbox_messages(updated_at) WHERE refund_pending = 1;
        CREATE TABLE inbox_totals (
            link_id TEXT PRIMARY KEY,
            messages INTEGER NOT NULL,
            paid INTEGER NOT NULL,
            refunded INTEGER NOT NULL,
            owed INTEGER NOT NULL
        );
        """,
        """
        UPDATE access_keys SET role = 'admin' WHERE role IS NULL OR role = '';
        ALTER TABLE access_keys ADD COLUMN facilitator INTEGER;
        UPDATE access_keys SET facilitator = CASE WHEN role = 'admin' THEN 1 ELSE 0 END;
        CREATE TABLE audit_entries (
            organisation_id TEXT NOT NULL,
            id TEXT NOT NULL,
            at TEXT NOT NULL,
            actor_kind TEXT NOT NULL,
            actor_id TEXT NOT NULL,
            actor_label TEXT NOT NULL,
            actor_role TEXT,
            action TEXT NOT NULL,
            target_type TEXT NOT NULL,
            target_id TEXT,
            before TEXT,
            after TEXT,
            client_address TEXT,
            outcome TEXT NOT NULL,
            status INTEGER NOT NULL,
            PRIMARY KEY (organisation_id, id)
        );
        CREATE TRIGGER audit_entries_append_only_update BEFORE UPDATE ON audit_entries BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_entries_append_only_delete BEFORE DELETE ON audit_entries BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """,
        """
        ALTER TABLE links ADD COLUMN pass TEXT;
        CREATE TABLE passes (
            id TEXT PRIMARY KEY,
            link_id TEXT NOT NULL,
            organisation_id TEXT NOT NULL,
            holder TEXT NOT NULL,
            price INTEGER NOT NULL,
            payment_ref TEXT NOT NULL,
            paid_with TEXT NOT NULL,
            calls INTEGER,
            calls_left INTEGER,
            expires_at TEXT,
            revoked_at TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX passes_by_link ON passes(link_id, created_at);
        CREATE INDEX passes_by_holder ON passes(holder, created_at);
        CREATE TABLE siwx_nonces (
            nonce TEXT PRIMARY KEY,
            keep_until TEXT NOT NULL
        );
        CREATE INDEX siwx_nonces_by_expiry ON siwx_nonces(keep_until);
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
        """
        -- A deferred payer's history check ("has this wallet ever settled with this organisation?") otherwise runs on
        -- payments_due by status alone, reading every settled payment of every payer (0.3 s a call at 1M payments).
        CREATE INDEX payments_by_payer_organisation ON payments(payer, organisation_id, status);
        """,
        """
        -- Card checkouts selling a pass, by Stripe Checkout Session: the webhook trusts this row, not the event's metadata.
        CREATE TABLE pass_checkouts (
            session_id TEXT PRIMARY KEY,
            link_id TEXT NOT NULL,
            organisation_id TEXT NOT NULL,
            price INTEGER NOT NULL,
            calls INTEGER,
            minutes INTEGER,
            payer_id TEXT NOT NULL,
            new_key_id TEXT,
            new_key_hash TEXT,
            created_at TEXT NOT NULL
        );
        """,
        """
        -- Card top-ups, by Stripe Checkout Session: the webhook credits what this row says, not the event's metadata.
        CREATE TABLE card_topups (
            session_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            account_id TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
        """
        -- A link its organisation disabled answers link_disabled and leaves the catalogue until enabled again.
        ALTER TABLE links ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
        """,
        """
        -- Outbound webhook events by their derived id: raising one again finds the first body rather than adding another.
        CREATE TABLE webhook_events (
            id TEXT PRIMARY KEY,
            organisation_id TEXT NOT NULL,
            event_type TEXT NOT NULL,
            created_at TEXT NOT NULL,
            payload TEXT NOT NULL
        );
        """,
        """
        -- A pass call given back for a reason that must count once (an inbox message whose delivery failed): the key
        -- is inserted with the call in one transaction, so a repeat or a concurrent twin finds it and gives nothing.
        CREATE TABLE pass_givebacks (
            key TEXT PRIMARY KEY,
            link_id TEXT NOT NULL,
            pass_id TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
        """
        -- The link's networks whose 402 asks for a Permit2 payment (comma list, empty: none).
        ALTER TABLE links ADD COLUMN permit2_networks TEXT NOT NULL DEFAULT '';
        """,
        """
        -- Why a pass was revoked (provider, refunded, disputed); card payments by the Stripe PaymentIntent that paid a
        -- recorded checkout, and how much of it refunds and disputes have taken back (cents), so each is taken once.
        ALTER TABLE passes ADD COLUMN revoked_reason TEXT;
        CREATE TABLE card_charges (
            payment_intent_id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            taken_back INTEGER NOT NULL DEFAULT 0,
            previous INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            created_at TEXT NOT NULL,
            -- The refunded total and the disputed amount, kept apart: Stripe reports them apart, and both are owed back.
            refunded INTEGER NOT NULL DEFAULT 0,
            disputed INTEGER NOT NULL DEFAULT 0
        );
        """,
        """
        -- Webhook retention: a delivery names its event, so an event is removed only once none of its deliveries is
        -- left; ended deliveries and old events are found by time without a scan.
        ALTER TABLE webhook_deliveries ADD COLUMN event_id TEXT;
        UPDATE webhook_deliveries SET event_id = json_extract(delivery, '$.eventId');
        CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries(event_id);
        CREATE INDEX webhook_deliveries_ended ON webhook_deliveries(next_attempt_at) WHERE status IN ('delivered', 'failed');
        CREATE INDEX webhook_events_by_time ON webhook_events(created_at);
        """,
        """
        -- A card checkout (top-up or pass, by its Stripe session) is marked paid before anything is credited for it;
        -- the sweep forgets only unmarked ones, in the same statement as that check. (IF NOT EXISTS: a step back over
        -- an earlier migration runs this one again.)
        CREATE TABLE IF NOT EXISTS paid_checkouts (session_id TEXT PRIMARY KEY) WITHOUT ROWID;
        """,
        """
        -- Inbox messages a stopped request left held (stored, not yet queued): the held-message sweep finds them.
        CREATE INDEX IF NOT EXISTS inbox_messages_held ON inbox_messages(updated_at) WHERE status = 'held';
        """,
        """
        -- A pass call taken and not yet kept (charged: the row goes) or given back (given_back_at, kept a day): a crash
        -- leaves it taken for the stale sweep.
        CREATE TABLE IF NOT EXISTS pass_spends (
            spend_id TEXT PRIMARY KEY,
            link_id TEXT NOT NULL,
            pass_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            given_back_at TEXT
        );
        CREATE INDEX IF NOT EXISTS pass_spends_taken ON pass_spends(created_at) WHERE given_back_at IS NULL;
        CREATE INDEX IF NOT EXISTS pass_spends_given_back ON pass_spends(given_back_at) WHERE given_back_at IS NOT NULL;
        """,
        """
        -- What a payment buys: what it owes is delivered only there (a pass purchase's never redeems a call).
        ALTER TABLE payments ADD COLUMN purpose TEXT NOT NULL DEFAULT 'content';
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

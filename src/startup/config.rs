//! Configuration from flags and the environment (`DATABASE_URL`,
//! `OPSLEDGER_*`). Every flag has an environment variable of the same meaning.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "opsledger",
    version,
    about = "Event-sourced incident and change-management server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print a development JWT signed with the development secret.
    Token(TokenArgs),
    /// Re-wrap every data-subject key under a new master key (no event is touched).
    RotateMasterKey(RotateArgs),
    /// Replace the key ETags are made with: every ETag clients hold becomes
    /// stale once. Restart every server instance afterwards.
    RotateEtagKey(RotateEtagKeyArgs),
    /// Recompute every per-stream chain and the global chain from the stored
    /// bytes; optionally prove the log still extends a signed checkpoint.
    Verify(VerifyArgs),
    /// Write a signed checkpoint of the global log's head, to keep outside the database.
    Checkpoint(CheckpointArgs),
    /// Replay the log into fresh views and swap them in while the server keeps serving.
    Rebuild(RebuildArgs),
    /// Write the whole log, the wrapped keys and the access log to a compressed backup file.
    Export(ExportArgs),
    /// Load a backup into an empty database: verify every chain, honour every erasure, rebuild the views.
    Import(ImportArgs),
    /// Data subjects: `repair` splits subjects that a matching contact had
    /// joined across different people (stores written before 2026-12).
    #[command(subcommand)]
    Subjects(SubjectsCommand),
    /// Business calendars: `load` defines the shipped ones (`24x7`, `CN`)
    /// that the store does not have yet.
    #[command(subcommand)]
    Calendars(CalendarsCommand),
    /// Service levels: `upgrade` pins clocks on open tickets that have none.
    #[command(subcommand)]
    Sla(SlaCommand),
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Pin service-level clocks, as the system and under the policy in
    /// force, on every open complaint and triaged fault that has none
    /// (tickets from before clocks were kept, or from a time the server ran
    /// with SLA off). `serve` does the same at start-up when clocks are on;
    /// a second run pins none.
    Upgrade(LoadCalendarsArgs),
}

#[derive(Debug, Subcommand)]
pub enum SubjectsCommand {
    /// Report the data subjects that a matching phone or email had joined
    /// across different people, and split each: every filing (or group of
    /// filings sharing a strong identifier) is sealed anew under a subject
    /// of its own, the index is rebuilt, and the merged key is destroyed.
    Repair(RepairArgs),
}

#[derive(Debug, Subcommand)]
pub enum CalendarsCommand {
    /// Define the shipped business calendars the store does not have yet
    /// (from `calendars/*.json`, compiled in); a second run defines none.
    Load(LoadCalendarsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct LoadCalendarsArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub master: MasterKeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RepairArgs {
    /// Only report what would be split.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub strong: StrongIdentifierArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub master: MasterKeyArgs,
}

/// An identifier a deployment may declare strong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum StrongIdentifier {
    CustomerRef,
    Email,
    Phone,
}

impl StrongIdentifier {
    pub fn index_kind(self) -> crate::privacy::crypto::IndexKind {
        use crate::privacy::crypto::IndexKind;
        match self {
            StrongIdentifier::CustomerRef => IndexKind::CustomerRef,
            StrongIdentifier::Email => IndexKind::Email,
            StrongIdentifier::Phone => IndexKind::Phone,
        }
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct StrongIdentifierArgs {
    /// Identifiers that name one person wherever they occur, e.g.
    /// `customer_ref` when it comes from the CRM: a filing whose identifier
    /// matches an existing subject exactly joins that subject. None by
    /// default; a phone or an email is shared by families and offices, so
    /// declaring one strong joins different people.
    #[arg(long, env = "OPSLEDGER_STRONG_IDENTIFIERS", value_enum, value_delimiter = ',')]
    pub strong_identifiers: Vec<StrongIdentifier>,
}

impl StrongIdentifierArgs {
    pub fn kinds(&self) -> Vec<crate::privacy::crypto::IndexKind> {
        self.strong_identifiers.iter().map(|s| s.index_kind()).collect()
    }
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The backup file to write (gzip-compressed NDJSON); refused if it exists.
    #[arg(long)]
    pub to: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RebuildArgs {
    /// Tasks that fold the log at once, each the streams dealt to it
    /// (default: one per core, at most 16). One connection reads the log
    /// for all of them.
    #[arg(long, env = "OPSLEDGER_REBUILD_FOLDS", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub folds: Option<u16>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// A backup written by `opsledger export`.
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CheckpointArgs {
    /// Ed25519 private key (PKCS#8 PEM, e.g. `openssl genpkey -algorithm ED25519`).
    #[arg(long)]
    pub key: PathBuf,
    /// Where to write the checkpoint (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct MasterKeyArgs {
    /// The master key that wraps every data-subject key: 32 bytes as 64 hex
    /// characters or base64. Never stored in the database. In development
    /// mode a key is generated into `<data-dir>/master-key` when none is given.
    #[arg(long, env = "OPSLEDGER_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// A file holding the master key (instead of OPSLEDGER_MASTER_KEY).
    #[arg(long, env = "OPSLEDGER_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct RotateArgs {
    /// File with the new master key (64 hex characters, e.g. from `openssl rand -hex 32`).
    #[arg(long)]
    pub new_key: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub master: MasterKeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RotateEtagKeyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub master: MasterKeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// A checkpoint written by `opsledger checkpoint`.
    #[arg(long, requires = "public_key")]
    pub checkpoint: Option<PathBuf>,
    /// The Ed25519 public key (SPKI PEM) the checkpoint was signed with.
    #[arg(long, requires = "checkpoint")]
    pub public_key: Option<PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL the server connects with. Without it, a private
    /// PostgreSQL cluster is started under `<data-dir>/postgres`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// URL of the role that owns the schema and runs migrations; defaults to
    /// `DATABASE_URL`. Give the server a role that may only read and append.
    #[arg(long, env = "OPSLEDGER_MIGRATION_DATABASE_URL", hide_env_values = true)]
    pub migration_database_url: Option<String>,
    /// Where the embedded database and development secrets live.
    #[arg(long, env = "OPSLEDGER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Maximum connections in the pool.
    #[arg(long, env = "OPSLEDGER_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    Es256,
    #[value(name = "EdDSA")]
    EdDsa,
}

#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// Development mode: allows HS256 tokens with a shared secret. Implied
    /// when no DATABASE_URL is given (the embedded default).
    #[arg(long, env = "OPSLEDGER_DEV_MODE")]
    pub dev_mode: bool,
    /// The only algorithm accepted; default HS256 in development mode, else RS256.
    #[arg(long, env = "OPSLEDGER_JWT_ALGORITHM", value_enum)]
    pub jwt_algorithm: Option<JwtAlgorithm>,
    /// HS256 secret (at least 32 bytes; development mode only). Without it,
    /// development mode keeps a generated secret in `<data-dir>/dev-jwt-secret`.
    #[arg(long, env = "OPSLEDGER_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file with the identity provider's public key (RS256, ES256, EdDSA).
    #[arg(long, env = "OPSLEDGER_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// JWKS file with the identity provider's keys; the token's `kid` picks one.
    #[arg(long, env = "OPSLEDGER_JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<PathBuf>,
    /// Required `iss`.
    #[arg(long, env = "OPSLEDGER_JWT_ISSUER", default_value = "opsledger-dev")]
    pub jwt_issuer: String,
    /// Required `aud`.
    #[arg(long, env = "OPSLEDGER_JWT_AUDIENCE", default_value = "opsledger")]
    pub jwt_audience: String,
    /// Clock leeway for `exp` and `nbf`, in seconds (at most 30).
    #[arg(long, env = "OPSLEDGER_JWT_LEEWAY_SECS", default_value_t = 5)]
    pub jwt_leeway_secs: u64,
    /// Claim path of the roles (dot-separated, e.g. `realm_access.roles`).
    #[arg(long, env = "OPSLEDGER_JWT_ROLES_CLAIM", default_value = "roles")]
    pub jwt_roles_claim: String,
    /// Claim path of the scopes (space-separated string or array).
    #[arg(long, env = "OPSLEDGER_JWT_SCOPES_CLAIM", default_value = "scope")]
    pub jwt_scopes_claim: String,
}

/// Whether service-level clocks are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum SlaSwitch {
    #[default]
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "OPSLEDGER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "OPSLEDGER_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "OPSLEDGER_WORKERS")]
    pub workers: Option<usize>,
    /// Seconds to let in-flight requests finish on shutdown.
    #[arg(long, env = "OPSLEDGER_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Log format: human-readable text or JSON lines.
    #[arg(long, env = "OPSLEDGER_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Hours a stored idempotent response is kept (and a retry with its
    /// `Idempotency-Key` replayed) before it is pruned.
    #[arg(long, env = "OPSLEDGER_IDEMPOTENCY_RETENTION_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=8760))]
    pub idempotency_retention_hours: u64,
    /// File holding the bearer token `/metrics` requires (at least 16
    /// characters, surrounding whitespace ignored). Without it `/metrics` is
    /// open, for a monitoring network that only Prometheus reaches.
    #[arg(long, env = "OPSLEDGER_METRICS_TOKEN_FILE")]
    pub metrics_token_file: Option<PathBuf>,
    /// The language of timeline sentences and problem titles when a request's
    /// `Accept-Language` names none the server speaks.
    #[arg(long, env = "OPSLEDGER_DEFAULT_LANGUAGE", value_enum, default_value = "en")]
    pub default_language: DefaultLanguage,
    /// Service-level clocks: `on` pins `sla.*` events on each ticket's
    /// stream as it is filed, triaged, answered, paused and resolved, and
    /// upgrades open tickets without clocks at start-up; `off` keeps none
    /// (for comparing filing throughput, see benches/load).
    #[arg(long, env = "OPSLEDGER_SLA", value_enum, default_value = "on")]
    pub sla: SlaSwitch,
    #[command(flatten)]
    pub strong: StrongIdentifierArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub master: MasterKeyArgs,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// How the web console signs users in outside development mode.
#[derive(Debug, Clone, Default, Args)]
pub struct ConsoleArgs {
    /// The OpenID Connect provider's discovery URL
    /// (`https://idp.example/.well-known/openid-configuration`): the
    /// console signs in there with the authorization code flow and PKCE,
    /// and its Content-Security-Policy admits connections to that origin.
    /// The provider's tokens are verified like any other (configure its
    /// JWKS file, issuer and audience).
    #[arg(long, env = "OPSLEDGER_OIDC_DISCOVERY_URL", requires = "oidc_client_id")]
    pub oidc_discovery_url: Option<String>,
    /// The console's client id at the provider (a public client: PKCE, no secret).
    #[arg(long, env = "OPSLEDGER_OIDC_CLIENT_ID", requires = "oidc_discovery_url")]
    pub oidc_client_id: Option<String>,
    /// The scopes the console asks for (space-separated; default `openid`).
    #[arg(long, env = "OPSLEDGER_OIDC_SCOPES")]
    pub oidc_scopes: Option<String>,
}

/// The languages the server speaks, as configuration names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DefaultLanguage {
    #[default]
    En,
    #[value(name = "zh-CN", alias = "zh")]
    ZhCn,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Subject (`sub`) of the token.
    #[arg(long)]
    pub sub: String,
    /// Role(s): agent, engineer, manager, auditor, integration, admin.
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,
    /// Display name (`name` claim).
    #[arg(long)]
    pub name: Option<String>,
    /// Scope(s) for integration principals, e.g. `tickets:read`.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl: i64,
    #[arg(long, env = "OPSLEDGER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub auth: AuthArgs,
}

use std::process::ExitCode;

use clap::Parser;

use opsledger::domain::Role;
use opsledger::http::auth::{DevToken, mint_dev_token};
use opsledger::infra::database;
use opsledger::startup::config::{CalendarsCommand, Cli, Command, LogFormat, SlaCommand, SubjectsCommand};
use opsledger::startup::{auth_config, maintenance, server::Application, telemetry};

/// See docs/performance.md: the allocator is a measured choice.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_format = match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => LogFormat::Text,
    };
    telemetry::init(log_format);
    let result = match cli.command {
        Command::Serve(args) => actix_web::rt::System::new().block_on(async move {
            let app = Application::build(args).await.map_err(|e| e.to_string())?;
            app.run_until_stopped().await.map_err(|e| e.to_string())
        }),
        Command::Migrate(args) => tokio::runtime::Runtime::new()
            .map_err(|e| e.to_string())
            .and_then(|rt| {
                rt.block_on(async {
                    let embedded = database::migrate_only(&args).await.map_err(|e| e.to_string())?;
                    drop(embedded);
                    eprintln!("migrations applied");
                    Ok(())
                })
            }),
        Command::Token(args) => token(&args),
        Command::Verify(args) => run_blocking(async move {
            let report = maintenance::verify(&args).await?;
            println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
            if report.ok {
                Ok(())
            } else {
                Err("verification FAILED".into())
            }
        }),
        Command::Checkpoint(args) => run_blocking(async move {
            print!("{}", maintenance::checkpoint(&args).await?);
            Ok(())
        }),
        Command::Rebuild(args) => run_blocking(async move {
            let report = maintenance::rebuild(&args).await?;
            println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
            Ok(())
        }),
        Command::Export(args) => run_blocking(async move {
            let report = opsledger::startup::backup::export(&args)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
            Ok(())
        }),
        Command::Import(args) => run_blocking(async move {
            let report = opsledger::startup::backup::import(&args)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
            Ok(())
        }),
        Command::Subjects(SubjectsCommand::Repair(args)) => run_blocking(async move {
            let report = maintenance::repair_subjects(&args).await?;
            println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
            Ok(())
        }),
        Command::Calendars(CalendarsCommand::Load(args)) => run_blocking(async move {
            let defined = maintenance::load_calendars(&args).await?;
            println!("{}", serde_json::to_string(&defined).map_err(|e| e.to_string())?);
            Ok(())
        }),
        Command::Sla(SlaCommand::Upgrade(args)) => run_blocking(async move {
            let upgraded = maintenance::upgrade_clocks(&args).await?;
            println!("{upgraded}");
            Ok(())
        }),
        Command::RotateMasterKey(args) => run_blocking(async move {
            println!("{}", maintenance::rotate_master_key(&args).await?);
            Ok(())
        }),
        Command::RotateEtagKey(args) => run_blocking(async move {
            println!("{}", maintenance::rotate_etag_key(&args).await?);
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("opsledger: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_blocking(work: impl std::future::Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())?
        .block_on(work)
}

fn token(args: &opsledger::startup::config::TokenArgs) -> Result<(), String> {
    let roles = args
        .roles
        .iter()
        .map(|r| Role::parse(r).ok_or_else(|| format!("unknown role {r:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    let secret = auth_config::dev_secret(&args.auth, &args.data_dir, false).map_err(|e| e.to_string())?;
    let token = mint_dev_token(
        &secret,
        &DevToken {
            issuer: &args.auth.jwt_issuer,
            audience: &args.auth.jwt_audience,
            subject: &args.sub,
            name: args.name.as_deref(),
            roles: &roles,
            scopes: &args.scopes,
            ttl_secs: args.ttl,
        },
    )
    .map_err(|e| e.to_string())?;
    println!("{token}");
    Ok(())
}

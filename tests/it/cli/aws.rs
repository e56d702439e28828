//! The binary against the AWS emulator: reached through `AWS_ENDPOINT_URL` alone, with dummy
//! credentials, in every region of the example platform.

use serde_json::json;

use crate::harness::{regionctl, regionctl_env, repo_root};
use crate::support::emulator::Emulator;
use crate::support::{Res, attrs};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-1"];

#[tokio::test(flavor = "multi_thread")]
async fn inventory_reaches_all_four_environments_through_aws_endpoint_url() {
    let emu = Emulator::start();
    // One VPC per region, created as an apply of the example platform would tag it.
    let provider = emu.provider("platform").await;
    for region in REGIONS {
        let r = Res::new(&format!("{region}/module.platform.vpc.main"));
        provider
            .create_and_wait(&r.ctx(), &attrs(json!({"cidr_block": "10.20.0.0/16"})))
            .await
            .expect("create a VPC in the emulator");
    }

    let run = regionctl_env(
        &repo_root(),
        &["inventory", "--all-regions", "--format", "json"],
        &emu.env(),
    );
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let out: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    let envs = out["environments"].as_array().expect("environments");
    let names: Vec<&str> = envs.iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(
        names,
        ["ap-southeast-1", "eu-west-1", "global", "us-east-1"]
    );
    for env in envs {
        assert_eq!(env["errors"], json!([]), "{}", run.describe());
        let name = env["name"].as_str().expect("name");
        let found = env["found"].as_array().expect("found");
        if name == "global" {
            assert_eq!(env["region"], "us-east-1", "IAM and Route 53 are global");
            assert!(found.is_empty(), "{}", run.describe());
            continue;
        }
        assert_eq!(env["region"], name);
        // Exactly the VPC made above: not the region's default VPC, nothing of another region.
        assert_eq!(found.len(), 1, "{name}: {}", run.describe());
        assert_eq!(
            found[0]["tags"]["regionctl:address"],
            format!("{name}/module.platform.vpc.main")
        );
        assert_eq!(found[0]["region"], name);
        let missing = env["missing"].as_array().expect("missing");
        assert!(
            !missing
                .iter()
                .any(|m| m == &json!(format!("{name}/module.platform.vpc.main")))
        );
        assert!(
            missing.len() > 15,
            "the rest of the region is not created yet"
        );
    }
    assert!(out["aws_requests"].as_u64().expect("count") >= 3 * 6 + 3);
}

#[test]
fn an_unreachable_endpoint_is_an_error_naming_kind_and_region() {
    // Nothing listens on port 9 of loopback (discard is never served in CI containers).
    let env = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_MAX_ATTEMPTS", "1".to_owned()),
    ];
    let run = regionctl_env(&repo_root(), &["inventory", "envs/eu-west-1"], &env);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stdout.contains("every vpc in eu-west-1"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("could not reach AWS"),
        "{}",
        run.describe()
    );
}

#[test]
fn endpoint_url_flag_is_global_and_documented() {
    let run = regionctl(&repo_root(), &["inventory", "--help"]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stdout.contains("--endpoint-url <URL>"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--profile <NAME>"), "{}", run.stdout);
}

#[test]
fn a_profile_from_the_shared_config_file_selects_the_endpoint_and_credentials() {
    let emu = Emulator::start();
    let dir = crate::harness::fresh_dir("aws", "profile");
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile emulator]\nregion = eu-west-1\nendpoint_url = {}\n\
             aws_access_key_id = testing\naws_secret_access_key = testing\n",
            emu.endpoint
        ),
    )
    .expect("write an AWS config file");
    let env = [
        ("AWS_CONFIG_FILE", config.display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/regionctl-test".to_owned(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let run = regionctl_env(
        &repo_root(),
        &["--profile", "emulator", "inventory", "envs/eu-west-1"],
        &env,
    );
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("0 found, 36 in the spec"),
        "{}",
        run.describe()
    );
    // Without the profile there are no credentials and no endpoint: the refresh must fail
    // (rather than reach real AWS), which shows the profile is what made the difference.
    let without = regionctl_env(&repo_root(), &["inventory", "envs/eu-west-1"], &env);
    assert_eq!(without.code, Some(1), "{}", without.describe());
}

#[test]
fn per_service_endpoint_variables_override_the_global_one() {
    let emu = Emulator::start();
    let mut env = emu.env();
    // The global endpoint leads nowhere; every service used here has its own variable.
    env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL");
    env.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_owned()));
    env.push(("AWS_MAX_ATTEMPTS", "1".to_owned()));
    for service in [
        "EC2",
        "EKS",
        "RDS",
        "ELASTICACHE",
        "IAM",
        "ROUTE_53",
        "KMS",
        "ECR",
        // Refreshes read RDS, ElastiCache and EKS tags through it.
        "RESOURCE_GROUPS_TAGGING_API",
        "CLOUDWATCH_LOGS",
        "CLOUDWATCH",
        "SNS",
    ] {
        let key: &'static str = Box::leak(format!("AWS_ENDPOINT_URL_{service}").into_boxed_str());
        env.push((key, emu.endpoint.clone()));
    }
    let run = regionctl_env(
        &repo_root(),
        &["inventory", "envs/eu-west-1", "envs/global"],
        &env,
    );
    assert_eq!(run.code, Some(0), "{}", run.describe());

    // Take EKS's away and only the EKS kinds fail, each naming its kind and region.
    env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL_EKS");
    let run = regionctl_env(&repo_root(), &["inventory", "envs/eu-west-1"], &env);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("error:"))
        .collect();
    assert_eq!(errors.len(), 4, "{}", run.describe());
    assert!(
        errors
            .iter()
            .any(|e| e.contains("every eks_cluster in eu-west-1")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("every eks_node_group in eu-west-1")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("every eks_addon in eu-west-1")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("every eks_access_entry in eu-west-1")),
        "{errors:?}"
    );
}

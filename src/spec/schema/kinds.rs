//! The declaration of every resource kind: its attributes (with how each compares with AWS),
//! what AWS computes, and every per-kind fact (placement, service, tags, natural name, consent,
//! import id, timing). The set of kinds itself is generated here too (`kinds!`).
//!
//! This file is pure data in the vocabulary of `types.rs`. Validation, documentation
//! (`docs/spec.md`) and planning all read these tables, so an attribute is added here once. The
//! `force_new` marks follow what the AWS APIs can modify in place: an attribute no `Modify*` /
//! `Update*` call accepts forces a replacement. Facts that change over time (regions, versions)
//! live in `spec::aws_facts`, not here.

use super::names::Format;
use super::types::Norm::*;
use super::types::*;
use crate::kind::Placement;
use crate::service::Service;
use crate::spec::aws_facts;

/// Generates the closed set of kinds from one line per kind (variant, name, declaration): the
/// `Kind` enum (re-exported as `crate::kind::Kind`), `Kind::ALL`, `Kind::name`, [`schema`] and
/// [`SCHEMAS`]. Adding a kind is one line here plus its declaration below; the provider's
/// dispatch `match` then says it needs a provider module.
macro_rules! kinds {
    ($($variant:ident = $name:literal => $decl:ident,)*) => {
        /// A kind of resource regionctl manages.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize,
            serde::Deserialize,
        )]
        pub enum Kind {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Kind {
            pub const ALL: [Kind; [$($name),*].len()] = [$(Kind::$variant),*];

            /// The name specs use (`vpc`, `rds_instance` ...).
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }
        }

        /// The declaration of `kind`.
        pub fn schema(kind: Kind) -> &'static KindSchema {
            match kind {
                $(Kind::$variant => &$decl,)*
            }
        }

        /// Every kind's declaration, in the order of [`Kind::ALL`].
        pub static SCHEMAS: [KindSchema; [$($name),*].len()] = [$($decl),*];
    };
}

kinds! {
    Vpc = "vpc" => VPC,
    Subnet = "subnet" => SUBNET,
    InternetGateway = "internet_gateway" => INTERNET_GATEWAY,
    NatGateway = "nat_gateway" => NAT_GATEWAY,
    RouteTable = "route_table" => ROUTE_TABLE,
    SecurityGroup = "security_group" => SECURITY_GROUP,
    IamRole = "iam_role" => IAM_ROLE,
    EksCluster = "eks_cluster" => EKS_CLUSTER,
    EksNodeGroup = "eks_node_group" => EKS_NODE_GROUP,
    DbSubnetGroup = "db_subnet_group" => DB_SUBNET_GROUP,
    RdsInstance = "rds_instance" => RDS_INSTANCE,
    CacheSubnetGroup = "cache_subnet_group" => CACHE_SUBNET_GROUP,
    ElasticacheReplicationGroup = "elasticache_replication_group" => ELASTICACHE_REPLICATION_GROUP,
    Route53Zone = "route53_zone" => ROUTE53_ZONE,
    Route53HealthCheck = "route53_health_check" => ROUTE53_HEALTH_CHECK,
    Route53Record = "route53_record" => ROUTE53_RECORD,
    CloudwatchLogGroup = "cloudwatch_log_group" => CLOUDWATCH_LOG_GROUP,
    KmsKey = "kms_key" => KMS_KEY,
    KmsAlias = "kms_alias" => KMS_ALIAS,
    IamPolicy = "iam_policy" => IAM_POLICY,
    EcrRepository = "ecr_repository" => ECR_REPOSITORY,
    EcrReplicationConfiguration = "ecr_replication_configuration" => ECR_REPLICATION_CONFIGURATION,
    SnsTopic = "sns_topic" => SNS_TOPIC,
    SnsSubscription = "sns_subscription" => SNS_SUBSCRIPTION,
    CloudwatchMetricAlarm = "cloudwatch_metric_alarm" => CLOUDWATCH_METRIC_ALARM,
    LaunchTemplate = "launch_template" => LAUNCH_TEMPLATE,
    IamOidcProvider = "iam_oidc_provider" => IAM_OIDC_PROVIDER,
    EksAddon = "eks_addon" => EKS_ADDON,
    EksAccessEntry = "eks_access_entry" => EKS_ACCESS_ENTRY,
}

mod platform;
use platform::*;

/// The per-kind facts, read from the kind's declaration.
impl Kind {
    pub fn schema(self) -> &'static KindSchema {
        schema(self)
    }

    pub fn placement(self) -> Placement {
        schema(self).placement
    }

    pub fn service(self) -> Service {
        schema(self).service
    }

    /// See [`KindSchema::stateful`].
    pub fn is_stateful(self) -> bool {
        schema(self).stateful
    }

    /// See [`KindSchema::needs_consent`].
    pub fn needs_consent(self) -> bool {
        schema(self).needs_consent
    }
}

// ---------------------------------------------------------------------------------------------
// Shorthands local to this table.

const fn int(min: i64, max: i64) -> Ty {
    Ty::Int {
        min: Some(min),
        max: Some(max),
    }
}

const fn int_min(min: i64) -> Ty {
    Ty::Int {
        min: Some(min),
        max: None,
    }
}

const fn computed(name: &'static str, doc: &'static str) -> Computed {
    Computed {
        name,
        doc,
        changes_on_update: false,
    }
}

/// A computed attribute an update in place changes; see [`Computed::changes_on_update`].
const fn computed_updated(name: &'static str, doc: &'static str) -> Computed {
    Computed {
        name,
        doc,
        changes_on_update: true,
    }
}

const PORT: Ty = int(0, 65535);
const CIDRS: Ty = Ty::List(&CIDR);

const VPC_ID: Ty = Ty::RefTo {
    kind: Kind::Vpc,
    attr: "id",
};
const SUBNET_ID: Ty = Ty::RefTo {
    kind: Kind::Subnet,
    attr: "id",
};
const SUBNET_IDS: Ty = Ty::List(&SUBNET_ID);
const SECURITY_GROUP_ID: Ty = Ty::RefTo {
    kind: Kind::SecurityGroup,
    attr: "id",
};
const SECURITY_GROUP_IDS: Ty = Ty::List(&SECURITY_GROUP_ID);
const IAM_ROLE_ARN: Ty = Ty::RefTo {
    kind: Kind::IamRole,
    attr: "arn",
};

/// The `tags` field every taggable kind has.
const TAGS_FIELD: Field = Field::opt(
    "tags",
    TAGS,
    "AWS tags, merged over the project's default_tags; regionctl adds its own regionctl:* tags.",
)
// Every provider syncs tags exactly: absent tags remove the user's (never regionctl's own).
.clear(Tags);

// ---------------------------------------------------------------------------------------------
// Networking.

const VPC: KindSchema = KindSchema {
    kind: Kind::Vpc,
    doc: "A virtual private cloud: an isolated IPv4 network in one region.",
    fields: &[
        Field::req(
            "cidr_block",
            CIDR,
            "Primary IPv4 CIDR block of the VPC, /16 to /28.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "enable_dns_support",
            BOOL,
            "Whether the Amazon DNS server resolves names in the VPC (AWS default true).",
        )
        .keep(Plain),
        Field::opt(
            "enable_dns_hostnames",
            BOOL,
            "Whether instances get public DNS hostnames (needed by EKS; AWS default false).",
        )
        .keep(Plain),
        Field::opt(
            "instance_tenancy",
            Ty::Enum(&["default", "dedicated"]),
            "Tenancy of instances launched in the VPC; only dedicated to default can change in place.",
        )
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed("id", "The VPC id (vpc-...)."),
        computed("arn", "The VPC ARN."),
    ],
    taggable: true,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Ec2,
    needs_consent: false,
    stateful: false,
    import_id: "vpc-...",
    timing: Timing::secs_mins(2, 15, 10),
};

const SUBNET: KindSchema = KindSchema {
    kind: Kind::Subnet,
    doc: "A subnet of a VPC in one availability zone.",
    fields: &[
        Field::req("vpc_id", VPC_ID, "The VPC the subnet belongs to.")
            .force_new()
            .keep(Plain),
        Field::req(
            "cidr_block",
            CIDR,
            "IPv4 CIDR block, inside the VPC's and not overlapping its other subnets.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "availability_zone",
            STRING,
            "Availability zone name, e.g. eu-west-1a; must belong to the environment's region.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "map_public_ip_on_launch",
            BOOL,
            "Whether instances launched here get a public IPv4 address (public subnets).",
        )
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed("id", "The subnet id (subnet-...)."),
        computed("arn", "The subnet ARN."),
    ],
    taggable: true,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Ec2,
    needs_consent: false,
    stateful: false,
    import_id: "subnet-...",
    timing: Timing::secs_mins(2, 15, 10),
};

const INTERNET_GATEWAY: KindSchema = KindSchema {
    kind: Kind::InternetGateway,
    doc: "An internet gateway attached to a VPC.",
    fields: &[
        Field::req(
            "vpc_id",
            VPC_ID,
            "The VPC the gateway is attached to; changing it detaches and reattaches.",
        )
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed("id", "The internet gateway id (igw-...)."),
        computed("arn", "The internet gateway ARN."),
    ],
    taggable: true,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Ec2,
    needs_consent: false,
    stateful: false,
    import_id: "igw-...",
    timing: Timing::secs_mins(2, 15, 10),
};

const NAT_GATEWAY: KindSchema = KindSchema {
    kind: Kind::NatGateway,
    doc: "A NAT gateway; for public connectivity regionctl allocates (and later releases) its Elastic IP.",
    fields: &[
        Field::req(
            "subnet_id",
            SUBNET_ID,
            "The subnet the gateway lives in (a public subnet for public connectivity).",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "connectivity_type",
            Ty::Enum(&["public", "private"]),
            "public (internet egress through an Elastic IP, the default) or private.",
        )
        .force_new()
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed("id", "The NAT gateway id (nat-...)."),
        computed(
            "allocation_id",
            "The id of the Elastic IP allocated for the gateway (public only).",
        ),
        computed(
            "public_ip",
            "The gateway's public IPv4 address (public only).",
        ),
        computed(
            "private_ip",
            "The gateway's private IPv4 address in its subnet.",
        ),
    ],
    taggable: true,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Ec2,
    needs_consent: false,
    stateful: false,
    import_id: "nat-...",
    timing: Timing::secs_mins(15, 30, 20),
};

const ROUTE_FIELDS: [Field; 3] = [
    Field::req(
        "destination_cidr_block",
        CIDR,
        "Destination of the route, e.g. 0.0.0.0/0.",
    )
    .part(),
    Field::opt(
        "gateway_id",
        Ty::RefTo {
            kind: Kind::InternetGateway,
            attr: "id",
        },
        "Send matching traffic to this internet gateway.",
    )
    .part(),
    Field::opt(
        "nat_gateway_id",
        Ty::RefTo {
            kind: Kind::NatGateway,
            attr: "id",
        },
        "Send matching traffic to this NAT gateway.",
    )
    .part(),
];

const ROUTE_TABLE: KindSchema = KindSchema {
    kind: Kind::RouteTable,
    doc: "A route table with its routes and subnet associations (the VPC's local route is implicit).",
    fields: &[
        Field::req("vpc_id", VPC_ID, "The VPC the route table belongs to.")
            .force_new()
            .keep(Plain),
        Field::opt(
            "routes",
            Ty::List(&Ty::Object(&ROUTE_FIELDS)),
            "Routes; each needs exactly one target (gateway_id or nat_gateway_id).",
        )
        // Absent routes and associations are left as AWS has them; given ones are managed exactly, by destination and as a set of subnets.
        .keep(Routes),
        Field::opt(
            "subnet_ids",
            SUBNET_IDS,
            "Subnets associated with this table (one association each).",
        )
        // Absent routes and associations are left as AWS has them; given ones are managed exactly, by destination and as a set of subnets.
        .keep(Set),
        TAGS_FIELD,
    ],
    computed: &[computed("id", "The route table id (rtb-...).")],
    taggable: true,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Ec2,
    needs_consent: false,
    stateful: false,
    import_id: "rtb-...",
    timing: Timing::secs_mins(2, 15, 10),
};

const RULE_FIELDS: [Field; 6] = [
    Field::req(
        "protocol",
        Ty::Enum(&["tcp", "udp", "icmp", "all"]),
        "IP protocol; all means every protocol and port.",
    )
    .part(),
    Field::opt(
        "from_port",
        PORT,
        "First port of the range (ICMP type for icmp).",
    )
    .part(),
    Field::opt(
        "to_port",
        PORT,
        "Last port of the range (ICMP code for icmp).",
    )
    .part(),
    Field::opt("cidr_blocks", CIDRS, "IPv4 ranges the rule applies to.").part(),
    Field::opt(
        "source_security_group_id",
        SECURITY_GROUP_ID,
        "Security group whose members the rule applies to (the peer group).",
    )
    .part(),
    Field::opt(
        "description",
        Ty::Format(Format::SecurityGroupDescription),
        "Description of the rule.",
    )
    .part(),
];

const SECURITY_GROUP: KindSchema = KindSchema {
    kind: Kind::SecurityGroup,
    doc: "A VPC security group and its ingress and egress rules (the rules are managed as a whole).",
    fields: &[
        Field::req(
            "name",
            Ty::Format(Format::SecurityGroupName),
            "Group name, unique within the VPC.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "description",
            Ty::Format(Format::SecurityGroupDescription),
            "Group description (AWS cannot change it; defaults to \"Managed by regionctl\").",
        )
        .force_new()
        // Cannot change and defaults on create only: any live one is accepted when the spec omits it.
        .keep(Plain),
        Field::req("vpc_id", VPC_ID, "The VPC the group belongs to.")
            .force_new()
            .keep(Plain),
        Field::opt(
            "ingress",
            Ty::List(&Ty::Object(&RULE_FIELDS)),
            "Inbound rules; each needs cidr_blocks or source_security_group_id.",
        )
        // Absent rules leave AWS's (e.g. the default allow-all egress); given ones are managed exactly, as one grant per peer.
        .keep(SgRules),
        Field::opt(
            "egress",
            Ty::List(&Ty::Object(&RULE_FIELDS)),
            "Outbound rules; when given they replace AWS's default allow-all egress rule.",
        )
        // Absent rules leave AWS's (e.g. the default allow-all egress); given ones are managed exactly, as one grant per peer.
        .keep(SgRules),
        TAGS_FIELD,
    ],
    computed: &[
        computed("id", "The security group id (sg-...)."),
        computed("arn", "The security group ARN."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Ec2,
    needs_consent: false,
    stateful: false,
    import_id: "sg-...",
    timing: Timing::secs_mins(2, 15, 10),
};

// ---------------------------------------------------------------------------------------------
// IAM (global).

const IAM_ROLE: KindSchema = KindSchema {
    kind: Kind::IamRole,
    doc: "An IAM role with its trust policy and attached managed policies.",
    fields: &[
        Field::req(
            "name",
            Ty::Format(Format::IamRoleName),
            "Role name, unique in the account (up to 64 characters).",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "assume_role_policy",
            Ty::Document,
            "Trust policy: who may assume the role (a map, or a JSON string).",
        )
        // IAM reads a one-element list and its element alike, and returns JSON text.
        .keep(Document),
        Field::opt(
            "managed_policy_arns",
            Ty::List(&IAM_POLICY_ARN),
            "ARNs of managed policies attached to the role: iam_policy references or AWS managed policy ARNs (the set is managed exactly).",
        )
        // Managed exactly: absent detaches every policy.
        .clear(Set),
        Field::opt(
            "inline_policies",
            Ty::Map(&Ty::Document),
            "Inline policies embedded in the role, by policy name, each a document compared as JSON.",
        )
        // Managed exactly: absent deletes every inline policy.
        .clear(Documents),
        Field::opt(
            "permissions_boundary",
            STRING,
            "ARN of the managed policy used as the role's permissions boundary.",
        )
        // Absent deletes the boundary (DeleteRolePermissionsBoundary).
        .clear(Plain),
        Field::opt(
            "path",
            Ty::Format(Format::IamPath),
            "Path of the role, e.g. /platform/ (AWS default /).",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "description",
            Ty::Format(Format::IamDescription),
            "Description of the role.",
        )
        // Absent is no description: UpdateRole sets it empty.
        .clear(Plain),
        Field::opt(
            "max_session_duration",
            int(3600, 43200),
            "Maximum session duration in seconds (AWS default 3600).",
        )
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed(
            "arn",
            "The role ARN (arn:aws:iam::<account>:role/<path><name>).",
        ),
        computed("id", "The role name, as regionctl identifies it."),
        computed("unique_id", "The stable unique id AWS assigns (AROA...)."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    // Declarable in a regional environment so an IRSA role can trust that region's OIDC provider
    // without an environment cycle (global -> region -> global).
    placement: Placement::GlobalAnyEnv,
    service: Service::Iam,
    needs_consent: false,
    stateful: false,
    import_id: "the role name",
    timing: Timing::secs_mins(2, 15, 10),
};

// ---------------------------------------------------------------------------------------------
// EKS.

const EKS_LOG_TYPES: Ty = Ty::Enum(&[
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
]);

/// An EKS cluster's secrets encryption: one block with the key, rather than EKS's list of one
/// `{provider: {keyArn}, resources: [secrets]}`. EKS takes one configuration, `secrets` was the
/// only resource it ever accepted, and the API now marks `resources` deprecated ("Amazon EKS
/// encrypts all Kubernetes API data by default"), so the provider sends `[secrets]` itself.
const EKS_ENCRYPTION_FIELDS: [Field; 1] = [
    Field::req("key_arn", KMS_KEY_ARN, "ARN of the symmetric KMS key, in the cluster's region, that encrypts Kubernetes secrets (envelope encryption).").part(),
];

const EKS_CLUSTER: KindSchema = KindSchema {
    kind: Kind::EksCluster,
    doc: "An EKS control plane.",
    fields: &[
        Field::req("name", Ty::Format(Format::EksClusterName), "Cluster name, unique in the region.").force_new()
            .keep(Plain),
        Field::opt("version", STRING, "Kubernetes minor version, e.g. \"1.31\"; upgraded in place one minor version at a time.")
            .keep(Plain),
        Field::req("role_arn", IAM_ROLE_ARN, "ARN of the IAM role the control plane assumes.").force_new()
            .keep(Plain),
        Field::req("subnet_ids", SUBNET_IDS, "Subnets (at least two AZs) for the control plane's network interfaces.").force_new()
            .keep(Set),
        Field::opt("security_group_ids", SECURITY_GROUP_IDS, "Extra security groups for the control plane's network interfaces.")
            // Absent is no extra security groups: the update sends the empty list.
            .clear(Set),
        Field::opt("endpoint_public_access", BOOL, "Whether the API server endpoint is reachable from the internet (AWS default true).")
            .keep(Plain),
        Field::opt("endpoint_private_access", BOOL, "Whether the API server endpoint is reachable from inside the VPC (AWS default false).")
            .keep(Plain),
        Field::opt("public_access_cidrs", CIDRS, "CIDR blocks allowed to reach the public endpoint (AWS default 0.0.0.0/0).")
            .keep(Set),
        Field::opt("logging", Ty::List(&EKS_LOG_TYPES), "Control plane log types sent to CloudWatch Logs.")
            // Absent disables every log type.
            .clear(Set),
        Field::opt("service_ipv4_cidr", CIDR, "CIDR block Kubernetes assigns service IPs from (AWS default 10.100.0.0/16 or 172.20.0.0/16).").force_new()
            .keep(Plain),
        Field::opt("authentication_mode", Ty::Enum(&["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]), "How IAM principals are mapped to Kubernetes; can only move towards API.")
            .keep(Plain),
        Field::opt("support_type", Ty::Enum(&["STANDARD", "EXTENDED"]), "Upgrade policy: whether the cluster may enter (paid) extended support.")
            .keep(Plain),
        Field::opt("encryption_config", Ty::Object(&EKS_ENCRYPTION_FIELDS), "Envelope encryption of Kubernetes secrets with a KMS key, e.g. {key_arn: \"${kms_key.eks.arn}\"}. Can be added to an existing cluster; EKS can never change or remove it.")
            // Added in place (AssociateEncryptionConfig); a changed key or a removal replaces
            // the cluster, as terraform-provider-aws does (ForceNew on the key, ForceNewIfChange
            // on removal). Absent means none, so a live one differs.
            .force_new_once_set()
            .clear(EncryptionConfig),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The cluster ARN."),
        computed("id", "The cluster name, as regionctl identifies it."),
        computed("endpoint", "URL of the Kubernetes API server."),
        computed("certificate_authority", "Base64 PEM of the cluster's certificate authority."),
        computed("oidc_issuer", "URL of the cluster's OpenID Connect issuer (for IAM roles for service accounts)."),
        computed("platform_version", "The EKS platform version, e.g. eks.12."),
        computed("cluster_security_group_id", "The security group EKS creates for the control plane and managed nodes."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Eks,
    needs_consent: true,
    stateful: true,
    import_id: "the cluster name",
    timing: Timing::secs_mins(30, 60, 40),
};

/// Every AMI type EKS managed node groups accept, as of the EKS API reference of early 2026.
const EKS_AMI_TYPES: &[&str] = &[
    "AL2_x86_64",
    "AL2_x86_64_GPU",
    "AL2_ARM_64",
    "CUSTOM",
    "BOTTLEROCKET_ARM_64",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64_FIPS",
    "BOTTLEROCKET_x86_64_FIPS",
    "BOTTLEROCKET_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA_FIPS",
    "BOTTLEROCKET_x86_64_NVIDIA_FIPS",
    "WINDOWS_CORE_2019_x86_64",
    "WINDOWS_FULL_2019_x86_64",
    "WINDOWS_CORE_2022_x86_64",
    "WINDOWS_FULL_2022_x86_64",
    "WINDOWS_CORE_2025_x86_64",
    "WINDOWS_FULL_2025_x86_64",
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "AL2023_x86_64_NEURON",
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
];

const SCALING_FIELDS: [Field; 3] = [
    Field::req("min", int_min(0), "Minimum number of nodes.").part(),
    Field::req(
        "desired",
        int_min(0),
        "Desired number of nodes, between min and max.",
    )
    .part(),
    Field::req("max", int_min(1), "Maximum number of nodes.").part(),
];

const TAINT_FIELDS: [Field; 3] = [
    Field::req("key", STRING, "Taint key.").part(),
    Field::opt("value", STRING, "Taint value.").part(),
    Field::req(
        "effect",
        Ty::Enum(&["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]),
        "Taint effect.",
    )
    .part(),
];

const UPDATE_CONFIG_FIELDS: [Field; 2] = [
    Field::opt(
        "max_unavailable",
        int(1, 100),
        "Nodes that may be unavailable at once during an update.",
    )
    .part(),
    Field::opt(
        "max_unavailable_percentage",
        int(1, 100),
        "Percentage of nodes that may be unavailable at once during an update.",
    )
    .part(),
];

const EKS_NODE_GROUP: KindSchema = KindSchema {
    kind: Kind::EksNodeGroup,
    doc: "An EKS managed node group.",
    fields: &[
        Field::req(
            "cluster_name",
            Ty::RefTo {
                kind: Kind::EksCluster,
                attr: "name",
            },
            "Name of the cluster the nodes join.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "name",
            Ty::Format(Format::EksNodeGroupName),
            "Node group name, unique within the cluster.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "node_role_arn",
            IAM_ROLE_ARN,
            "ARN of the IAM role the nodes assume.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "subnet_ids",
            SUBNET_IDS,
            "Subnets the nodes are launched in (usually private).",
        )
        .force_new()
        .keep(Set),
        Field::opt(
            "instance_types",
            STRINGS,
            "EC2 instance types, e.g. [m6i.large] (AWS default t3.medium).",
        )
        .force_new()
        // Keeps its order: for on-demand nodes it is the priority order, and a false "same" would hide a (force_new) change.
        .keep(Plain),
        Field::opt(
            "capacity_type",
            Ty::Enum(&["ON_DEMAND", "SPOT"]),
            "Purchase option for the nodes (AWS default ON_DEMAND).",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "ami_type",
            Ty::Enum(EKS_AMI_TYPES),
            "AMI family of the nodes (AWS default depends on the version, AL2023 from 1.30).",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "disk_size",
            int(1, 16384),
            "Root volume size in GiB (AWS default 20).",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "version",
            STRING,
            "Kubernetes version of the nodes (defaults to the cluster's); upgraded in place.",
        )
        .keep(Plain),
        Field::opt(
            "release_version",
            STRING,
            "EKS-optimized AMI release to use (defaults to the latest for the version).",
        )
        .keep(Plain),
        Field::opt(
            "launch_template_id",
            Ty::RefTo {
                kind: Kind::LaunchTemplate,
                attr: "id",
            },
            "Launch template the nodes start from (IMDSv2, root volume, instance tags); EKS cannot switch a node group to another template.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "launch_template_version",
            STRING,
            "Version of the launch template, usually ${launch_template.<name>.latest_version}; a new version rolls the nodes in place (UpdateNodegroupVersion).",
        )
        // Absent leaves the version EKS has (the template's default at creation).
        .keep(Plain),
        Field::req(
            "scaling",
            Ty::Object(&SCALING_FIELDS),
            "Size of the node group: min <= desired <= max.",
        )
        .keep(Plain),
        Field::opt("labels", TAGS, "Kubernetes labels applied to the nodes.")
            // Absent labels and taints are none: the update removes the live ones.
            .clear(StrMap),
        Field::opt(
            "taints",
            Ty::List(&Ty::Object(&TAINT_FIELDS)),
            "Kubernetes taints applied to the nodes.",
        )
        // Absent labels and taints are none: the update removes the live ones.
        .clear(Taints),
        Field::opt(
            "update_config",
            Ty::Object(&UPDATE_CONFIG_FIELDS),
            "Rolling update limits; set at most one of the two.",
        )
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The node group ARN."),
        computed("id", "cluster_name/name, as regionctl identifies it."),
        computed("status", "The node group status, e.g. ACTIVE."),
        computed(
            "autoscaling_group",
            "The name of the Auto Scaling group of the nodes: the AutoScalingGroupName dimension of their EC2 metrics (node CPU alarms).",
        ),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Eks,
    needs_consent: false,
    stateful: false,
    import_id: "cluster-name/node-group-name",
    timing: Timing::secs_mins(30, 60, 60),
};

// ---------------------------------------------------------------------------------------------
// RDS.

const DB_SUBNET_GROUP: KindSchema = KindSchema {
    kind: Kind::DbSubnetGroup,
    doc: "An RDS DB subnet group: the subnets (at least two AZs) a DB instance may use.",
    fields: &[
        Field::req(
            "name",
            Ty::Format(Format::DbSubnetGroupName),
            "Group name, unique in the region (AWS stores it lowercase).",
        )
        .force_new()
        // RDS stores group names lowercase; the name forces replacement, so case must never read as a change.
        .keep(Lower),
        Field::opt(
            "description",
            Ty::Format(Format::Description255),
            "Group description (defaults to \"Managed by regionctl\").",
        )
        // Absent writes the default description (ModifyDBSubnetGroup).
        .defaults_to(DEFAULT_DESCRIPTION, Plain),
        Field::req(
            "subnet_ids",
            SUBNET_IDS,
            "Subnets in the group, in at least two availability zones.",
        )
        .keep(Set),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The DB subnet group ARN."),
        computed("id", "The group name, as regionctl identifies it."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Rds,
    needs_consent: false,
    stateful: false,
    import_id: "the subnet group name",
    timing: Timing::secs_mins(2, 15, 10),
};

const RDS_INSTANCE: KindSchema = KindSchema {
    kind: Kind::RdsInstance,
    doc: "An RDS DB instance (PostgreSQL or MySQL), or a read replica of one, possibly cross-region.",
    fields: &[
        Field::req("identifier", Ty::Format(Format::RdsIdentifier), "DB instance identifier, unique in the region (lowercase letters, digits, hyphens).").force_new()
            // RDS stores these lowercase; a case difference must never read as a change (or a replacement).
            .keep(Lower),
        Field::opt("engine", Ty::Enum(aws_facts::RDS_ENGINES), "Database engine; required unless replicate_from is set (a replica inherits it).").force_new()
            // RDS stores these lowercase; a case difference must never read as a change (or a replacement).
            .keep(Lower),
        Field::opt("engine_version", STRING, "Engine version, e.g. \"16.4\" or \"8.0\"; upgrades happen in place.")
            // RDS takes "16" or "8.0" and reports the minor version it chose.
            .keep(RdsVersion),
        Field::opt("allow_major_version_upgrade", BOOL, "Whether a change of engine_version may cross a major version.")
            // RDS never returns a password, and this only steers a modification or a deletion.
            .write_only(),
        Field::opt("auto_minor_version_upgrade", BOOL, "Whether AWS applies minor engine upgrades in the maintenance window (AWS default true).")
            .keep(Plain),
        Field::req("instance_class", STRING, "Instance class, e.g. db.r6g.large.")
            .keep(Plain),
        Field::opt("allocated_storage", int(20, 65536), "Storage in GiB; required for a primary, can only grow.")
            .keep(Plain),
        Field::opt("max_allocated_storage", int(20, 65536), "Upper limit in GiB for storage autoscaling; omit to disable autoscaling.")
            // Absent disables storage autoscaling (the limit is set to the allocated storage).
            .clear(Plain),
        Field::opt("storage_type", Ty::Enum(&["gp2", "gp3", "io1", "io2"]), "Storage type (AWS default gp2).")
            .keep(Plain),
        Field::opt("iops", int(1000, 256000), "Provisioned IOPS (io1, io2, and gp3 above its baseline).")
            .keep(Plain),
        Field::opt("storage_throughput", int(125, 4000), "Provisioned throughput in MiB/s (gp3 only).")
            .keep(Plain),
        Field::opt("storage_encrypted", BOOL, "Whether storage is encrypted at rest; a replica follows its source.").force_new()
            .keep(Plain),
        Field::opt("kms_key_id", KMS_KEY_ARN, "KMS key for storage encryption: an ARN (a reference to a kms_key's arn, or a literal ARN or alias) in the instance's own region, also for a cross-region replica (AWS default: the aws/rds key).").force_new()
            // RDS reports the key's ARN whatever the spec names; leans to "same", because a false "differs" replaces a database.
            .keep(KmsKey),
        Field::opt("availability_zone", STRING, "Availability zone of a single-AZ instance.").force_new()
            .keep(Plain),
        Field::opt("multi_az", BOOL, "Whether a synchronous standby runs in another availability zone.")
            .keep(Plain),
        Field::opt("db_subnet_group", Ty::RefTo { kind: Kind::DbSubnetGroup, attr: "name" }, "Name of the DB subnet group, which sets the VPC.").force_new()
            // RDS stores these lowercase; a case difference must never read as a change (or a replacement).
            .keep(Lower),
        Field::opt("vpc_security_group_ids", SECURITY_GROUP_IDS, "Security groups of the instance.")
            // An empty or absent list leaves the instance's groups alone.
            .keep_unless_empty(Set),
        Field::opt("parameter_group_name", STRING, "Name of the DB parameter group (AWS default: the engine's default group).")
            // RDS stores these lowercase; a case difference must never read as a change (or a replacement).
            .keep(Lower),
        Field::opt("db_name", Ty::Format(Format::RdsDbName), "Name of the database created with the instance.").force_new()
            .keep(Plain),
        Field::opt("master_username", Ty::Format(Format::RdsMasterUsername), "Master user name; required for a primary, inherited by a replica.").force_new()
            .keep(Plain),
        Field::opt("manage_master_user_password", BOOL, "Let RDS generate the master password and keep it in Secrets Manager.")
            .keep(Plain),
        Field::opt("master_password_env", STRING, "Name of the environment variable holding the master password (never the password itself).").sensitive()
            // RDS never returns a password, and this only steers a modification or a deletion.
            .write_only(),
        Field::opt("port", int(1150, 65535), "Port the database listens on (AWS default 5432 for postgres, 3306 for mysql).")
            .keep(Plain),
        Field::opt("publicly_accessible", BOOL, "Whether the instance gets a public DNS name and address (AWS default false).")
            .keep(Plain),
        Field::opt("backup_retention_period", int(0, 35), "Days automated backups are kept; 0 disables them (a replication source needs > 0).")
            .keep(Plain),
        Field::opt("preferred_backup_window", Ty::Format(Format::DailyWindow), "Daily UTC window for automated backups, e.g. 03:00-04:00.")
            .keep(Plain),
        Field::opt("preferred_maintenance_window", Ty::Format(Format::WeeklyWindow), "Weekly UTC maintenance window, e.g. sun:05:00-sun:06:00.")
            // RDS stores these lowercase; a case difference must never read as a change (or a replacement).
            .keep(Lower),
        Field::opt("copy_tags_to_snapshot", BOOL, "Whether the instance's tags are copied to its snapshots.")
            .keep(Plain),
        Field::opt("performance_insights_enabled", BOOL, "Whether Performance Insights is enabled.")
            .keep(Plain),
        Field::opt("deletion_protection", BOOL, "Whether AWS refuses to delete the instance.")
            .keep(Plain),
        Field::opt("skip_final_snapshot", BOOL, "Whether deleting the instance skips the final snapshot.")
            // RDS never returns a password, and this only steers a modification or a deletion.
            .write_only(),
        Field::opt("final_snapshot_identifier", Ty::Format(Format::RdsSnapshotIdentifier), "Name of the final snapshot taken on deletion.")
            // RDS never returns a password, and this only steers a modification or a deletion.
            .write_only(),
        Field::opt("replicate_from", Ty::RefTo { kind: Kind::RdsInstance, attr: "arn" }, "ARN of the source instance for a read replica; removing it promotes the replica.")
            // Absent promotes a replica (PromoteReadReplica); RDS reports the source as an ARN.
            .clear(RdsSource),
        Field::opt("apply_immediately", BOOL, "Apply modifications now instead of in the next maintenance window.")
            // RDS never returns a password, and this only steers a modification or a deletion.
            .write_only(),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The DB instance ARN."),
        computed("id", "The DB instance identifier, as regionctl identifies it."),
        computed("endpoint", "address:port of the instance."),
        computed("address", "DNS name of the instance."),
        computed("resource_id", "The region-unique, immutable resource id (db-...)."),
    ],
    taggable: true,
    natural_name: Some("identifier"),
    refresh_hint: Some("identifier"),
    placement: Placement::Regional,
    service: Service::Rds,
    needs_consent: true,
    stateful: true,
    import_id: "the DB instance identifier",
    timing: Timing::secs_mins(30, 60, 120),
};

// ---------------------------------------------------------------------------------------------
// ElastiCache.

const CACHE_SUBNET_GROUP: KindSchema = KindSchema {
    kind: Kind::CacheSubnetGroup,
    doc: "An ElastiCache subnet group: the subnets a replication group may use.",
    fields: &[
        Field::req(
            "name",
            Ty::Format(Format::CacheSubnetGroupName),
            "Group name, unique in the region (AWS stores it lowercase).",
        )
        .force_new()
        // ElastiCache stores group names lowercase; the name forces replacement, so case must never read as a change.
        .keep(Lower),
        Field::opt(
            "description",
            Ty::Format(Format::Description255),
            "Group description (defaults to \"Managed by regionctl\").",
        )
        // Absent writes the default description (ModifyCacheSubnetGroup).
        .defaults_to(DEFAULT_DESCRIPTION, Plain),
        Field::req("subnet_ids", SUBNET_IDS, "Subnets in the group.").keep(Set),
        TAGS_FIELD,
    ],
    computed: &[computed("arn", "The cache subnet group ARN.")],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Elasticache,
    needs_consent: false,
    stateful: false,
    import_id: "the subnet group name",
    timing: Timing::secs_mins(2, 15, 10),
};

const ELASTICACHE_REPLICATION_GROUP: KindSchema = KindSchema {
    kind: Kind::ElasticacheReplicationGroup,
    doc: "An ElastiCache (Redis OSS or Valkey) replication group, cluster mode disabled.",
    fields: &[
        Field::req(
            "replication_group_id",
            Ty::Format(Format::ReplicationGroupId),
            "Replication group id, unique in the region (1-40 lowercase characters).",
        )
        .force_new()
        // ElastiCache stores these lowercase.
        .keep(Lower),
        Field::opt(
            "description",
            Ty::Format(Format::Description255),
            "Description (defaults to \"Managed by regionctl\").",
        )
        // Absent writes the default description (ModifyReplicationGroup).
        .defaults_to(DEFAULT_DESCRIPTION, Plain),
        Field::opt(
            "engine",
            Ty::Enum(aws_facts::ELASTICACHE_ENGINES),
            "Cache engine (AWS default redis); redis can be upgraded to valkey in place.",
        )
        // ElastiCache stores these lowercase.
        .keep(Lower),
        Field::opt(
            "engine_version",
            STRING,
            "Engine version, e.g. \"7.1\"; upgrades happen in place.",
        )
        // Reported as major.minor from Redis OSS 6 on.
        .keep(CacheVersion),
        Field::req("node_type", STRING, "Node type, e.g. cache.r7g.large.").keep(Plain),
        Field::opt(
            "num_cache_clusters",
            int(1, 6),
            "Number of nodes: one primary plus replicas.",
        )
        .keep(Plain),
        Field::opt(
            "automatic_failover",
            BOOL,
            "Whether a replica is promoted automatically when the primary fails (needs 2+ nodes).",
        )
        .keep(Plain),
        Field::opt(
            "multi_az",
            BOOL,
            "Whether nodes are spread across availability zones (needs automatic_failover).",
        )
        .keep(Plain),
        Field::opt(
            "cache_subnet_group",
            Ty::RefTo {
                kind: Kind::CacheSubnetGroup,
                attr: "name",
            },
            "Name of the cache subnet group, which sets the VPC.",
        )
        .force_new()
        // ElastiCache stores these lowercase.
        .keep(Lower),
        Field::opt(
            "security_group_ids",
            SECURITY_GROUP_IDS,
            "Security groups of the nodes.",
        )
        .keep(Set),
        Field::opt(
            "parameter_group_name",
            STRING,
            "Name of the cache parameter group (AWS default: the engine's default group).",
        )
        .keep(Plain),
        Field::opt(
            "at_rest_encryption",
            BOOL,
            "Whether data at rest is encrypted.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "kms_key_id",
            KMS_KEY_ARN,
            "KMS key ARN for encryption at rest, a key of the group's region (AWS default: an AWS-owned key).",
        )
        .force_new()
        // ElastiCache reports the key's ARN whatever the spec names.
        .keep(KmsKey),
        Field::opt("transit_encryption", BOOL, "Whether connections use TLS.").keep(Plain),
        Field::opt(
            "port",
            int(1, 65535),
            "Port the nodes listen on (AWS default 6379).",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "snapshot_retention_limit",
            int(0, 35),
            "Days automatic snapshots are kept; 0 disables them.",
        )
        .keep(Plain),
        Field::opt(
            "snapshot_window",
            Ty::Format(Format::DailyWindow),
            "Daily UTC window for snapshots, e.g. 03:00-04:00.",
        )
        .keep(Plain),
        Field::opt(
            "preferred_maintenance_window",
            Ty::Format(Format::WeeklyWindow),
            "Weekly UTC maintenance window, e.g. sun:05:00-sun:06:00.",
        )
        // ElastiCache stores these lowercase.
        .keep(Lower),
        Field::opt(
            "auto_minor_version_upgrade",
            BOOL,
            "Whether AWS applies minor engine upgrades in the maintenance window.",
        )
        .keep(Plain),
        Field::opt(
            "apply_immediately",
            BOOL,
            "Apply modifications now instead of in the next maintenance window.",
        )
        // Steers how a modification is applied; not a property of the group.
        .write_only(),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The replication group ARN."),
        computed(
            "primary_endpoint",
            "host:port of the primary (read-write) endpoint.",
        ),
        computed(
            "reader_endpoint",
            "host:port of the reader endpoint spread over the replicas.",
        ),
    ],
    taggable: true,
    natural_name: Some("replication_group_id"),
    refresh_hint: Some("replication_group_id"),
    placement: Placement::Regional,
    service: Service::Elasticache,
    needs_consent: false,
    stateful: true,
    import_id: "the replication group id",
    timing: Timing::secs_mins(15, 60, 90),
};

// ---------------------------------------------------------------------------------------------
// Route 53 (global).

const ROUTE53_ZONE: KindSchema = KindSchema {
    kind: Kind::Route53Zone,
    doc: "A public Route 53 hosted zone.",
    fields: &[
        Field::req(
            "name",
            Ty::Format(Format::DnsName),
            "Domain name of the zone, e.g. example.com.",
        )
        .force_new()
        // Route 53 answers lowercase with a final dot and \ooo escapes.
        .keep(Dns),
        Field::opt(
            "comment",
            Ty::Format(Format::Text256),
            "Comment on the zone.",
        )
        // Absent clears the comment (UpdateHostedZoneComment without one).
        .clear(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed("id", "The hosted zone id (Z...)."),
        computed("arn", "The hosted zone ARN."),
        computed(
            "name_servers",
            "The four name servers to delegate the domain to (a list).",
        ),
    ],
    taggable: true,
    natural_name: None,
    refresh_hint: Some("name"),
    placement: Placement::Global,
    service: Service::Route53,
    needs_consent: false,
    stateful: false,
    import_id: "the hosted zone id, Z...",
    timing: Timing::secs_mins(2, 30, 10),
};

const ROUTE53_HEALTH_CHECK: KindSchema = KindSchema {
    kind: Kind::Route53HealthCheck,
    doc: "A Route 53 health check of an endpoint.",
    fields: &[
        Field::req(
            "type",
            Ty::Enum(&["HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"]),
            "How the endpoint is checked.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "fqdn",
            Ty::Format(Format::HealthCheckFqdn),
            "Host name of the endpoint; fqdn or ip_address is required.",
        )
        // Absent resets it (ResetElements); the address and search string cannot be reset and stay as they are.
        .clear(Plain),
        Field::opt(
            "ip_address",
            Ty::Format(Format::IpAddress),
            "IPv4 or IPv6 address of the endpoint.",
        )
        .keep(Plain),
        Field::opt(
            "port",
            int(1, 65535),
            "Port of the endpoint (default 80 for HTTP, 443 for HTTPS).",
        )
        .keep(Plain),
        Field::opt(
            "resource_path",
            Ty::Format(Format::Text255),
            "Path requested by HTTP(S) checks, e.g. /health.",
        )
        // Absent resets it (ResetElements); the address and search string cannot be reset and stay as they are.
        .clear(Plain),
        Field::opt(
            "search_string",
            Ty::Format(Format::Text255),
            "String the response body must contain (*_STR_MATCH types, up to 255 characters).",
        )
        .keep(Plain),
        Field::opt(
            "request_interval",
            int(10, 30),
            "Seconds between checks: 10 or 30 (AWS default 30).",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "failure_threshold",
            int(1, 10),
            "Consecutive failures before the endpoint is unhealthy (AWS default 3).",
        )
        .keep(Plain),
        Field::opt(
            "measure_latency",
            BOOL,
            "Whether Route 53 measures latency from its checker regions.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "enable_sni",
            BOOL,
            "Whether HTTPS checks send the host name in TLS SNI (AWS default true for HTTPS).",
        )
        .keep(Plain),
        Field::opt(
            "regions",
            Ty::List(&Ty::Enum(aws_facts::ROUTE53_HEALTH_CHECK_REGIONS)),
            "Checker regions (at least 3) to check from; AWS default is all of them.",
        )
        // Absent resets the checker regions to AWS's default (all of them).
        .clear(Set),
        Field::opt("inverted", BOOL, "Whether the check's status is inverted.").keep(Plain),
        Field::opt(
            "disabled",
            BOOL,
            "Whether the check is disabled (then it is always reported healthy).",
        )
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[computed("id", "The health check id.")],
    taggable: true,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Global,
    service: Service::Route53,
    needs_consent: false,
    stateful: false,
    import_id: "the health check id",
    timing: Timing::secs_mins(2, 30, 10),
};

const ALIAS_FIELDS: [Field; 3] = [
    Field::req(
        "name",
        STRING,
        "DNS name of the alias target, e.g. a load balancer's DNS name.",
    )
    .part(),
    Field::req(
        "zone_id",
        STRING,
        "Hosted zone id of the alias target (e.g. the load balancer's canonical zone).",
    )
    .part(),
    Field::opt(
        "evaluate_target_health",
        BOOL,
        "Whether the record follows the target's health.",
    )
    .part(),
];

const LATENCY_FIELDS: [Field; 1] = [Field::req(
    "region",
    STRING,
    "AWS region whose latency decides whether this record is answered.",
)
.part()];

const WEIGHTED_FIELDS: [Field; 1] = [Field::req(
    "weight",
    int(0, 255),
    "Relative weight; 0 receives traffic only if all weights are 0.",
)
.part()];

const ROUTING_FIELDS: [Field; 3] = [
    Field::opt(
        "latency",
        Ty::Object(&LATENCY_FIELDS),
        "Latency-based routing.",
    )
    .part(),
    Field::opt(
        "failover",
        Ty::Enum(&["PRIMARY", "SECONDARY"]),
        "Failover routing: this record's role.",
    )
    .part(),
    Field::opt(
        "weighted",
        Ty::Object(&WEIGHTED_FIELDS),
        "Weighted routing.",
    )
    .part(),
];

const ROUTE53_RECORD: KindSchema = KindSchema {
    kind: Kind::Route53Record,
    doc: "A Route 53 record set: simple, alias, latency, failover or weighted.",
    fields: &[
        Field::req(
            "zone_id",
            Ty::RefTo {
                kind: Kind::Route53Zone,
                attr: "id",
            },
            "Hosted zone the record belongs to.",
        )
        .force_new()
        .keep(ZoneId),
        Field::req(
            "name",
            Ty::Format(Format::DnsName),
            "Fully qualified record name, e.g. api.example.com.",
        )
        .force_new()
        .keep(Dns),
        Field::req(
            "type",
            Ty::Enum(&["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA"]),
            "Record type.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "ttl",
            int(0, 2147483647),
            "Time to live in seconds; required unless alias is set.",
        )
        // A record is written whole (UPSERT of the desired record set): every part the spec leaves out is removed.
        .clear(Plain),
        Field::opt(
            "records",
            STRINGS,
            "Record values; required unless alias is set.",
        )
        // A record is written whole (UPSERT of the desired record set): every part the spec leaves out is removed.
        .clear(Set),
        Field::opt(
            "alias",
            Ty::Object(&ALIAS_FIELDS),
            "Alias target instead of ttl and records.",
        )
        // A record is written whole (UPSERT of the desired record set): every part the spec leaves out is removed.
        .clear(Alias),
        Field::opt(
            "set_identifier",
            Ty::Format(Format::SetIdentifier),
            "Distinguishes records of one name and type; required with routing.",
        )
        .force_new()
        // A record is written whole (UPSERT of the desired record set): every part the spec leaves out is removed.
        .clear(Plain),
        Field::opt(
            "routing",
            Ty::Object(&ROUTING_FIELDS),
            "Routing policy: at most one of latency, failover, weighted.",
        )
        // A record is written whole (UPSERT of the desired record set): every part the spec leaves out is removed.
        .clear(Plain),
        Field::opt(
            "health_check_id",
            Ty::RefTo {
                kind: Kind::Route53HealthCheck,
                attr: "id",
            },
            "Health check deciding whether this record is answered.",
        )
        // A record is written whole (UPSERT of the desired record set): every part the spec leaves out is removed.
        .clear(Plain),
    ],
    computed: &[
        computed("fqdn", "The record name as Route 53 stores it."),
        computed(
            "id",
            "zone_id/name/type[/set_identifier], as regionctl identifies it.",
        ),
    ],
    taggable: false,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Global,
    service: Service::Route53,
    needs_consent: false,
    stateful: false,
    import_id: "zone-id/name/type[/set-identifier]",
    timing: Timing::secs_mins(2, 30, 10),
};

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs.

const CLOUDWATCH_LOG_GROUP: KindSchema = KindSchema {
    kind: Kind::CloudwatchLogGroup,
    doc: "A CloudWatch Logs log group (for example /aws/eks/<cluster>/cluster for EKS control-plane logs), with its retention and KMS key.",
    fields: &[
        Field::req(
            "name",
            STRING,
            "Log group name, unique in the region: 1 to 512 characters of A-Z a-z 0-9 . - _ / #.",
        )
        .force_new()
        // Log group names are case-sensitive and AWS reports them as given.
        .keep(Plain),
        Field::opt(
            "retention_in_days",
            int(1, 3653),
            "Days to keep log events: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653; absent keeps them forever.",
        )
        // Absent means never expire (AWS's default at create), so the update deletes the
        // retention policy (DeleteRetentionPolicy) and a live retention is a change: keeping it
        // would let a spec that dropped the line go on deleting logs.
        .clear(Plain),
        Field::opt(
            "kms_key_id",
            KMS_KEY_ARN,
            "ARN of the KMS key that encrypts the log data; absent leaves the data encrypted by CloudWatch Logs.",
        )
        // Absent disassociates the key (DisassociateKmsKey), as the spec then asks for no key;
        // CloudWatch Logs reports the key ARN it was given.
        .clear(KmsKey),
        Field::opt(
            "log_group_class",
            Ty::Enum(&["STANDARD", "INFREQUENT_ACCESS"]),
            "Log class, fixed at creation (AWS default STANDARD).",
        )
        .force_new()
        // Absent is no opinion: a group already INFREQUENT_ACCESS (imported, or the line removed)
        // is not replaced, which would delete its log events, just for the default.
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed(
            "arn",
            "The log group ARN, without the trailing :* (as IAM policies and EKS take it).",
        ),
        computed("id", "The log group name, as regionctl identifies it."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Logs,
    // Deleting or replacing a log group deletes its log events (audit logs among them).
    needs_consent: true,
    stateful: true,
    import_id: "the log group name",
    // Create, update and delete take effect at once; a wait only confirms.
    timing: Timing::secs_mins(1, 5, 2),
};

// ---------------------------------------------------------------------------------------------
// SNS and CloudWatch alarms.

const SNS_TOPIC: KindSchema = KindSchema {
    kind: Kind::SnsTopic,
    doc: "An SNS topic (standard or FIFO) that alarms and applications publish to, optionally encrypted with a KMS key.",
    fields: &[
        Field::req(
            "name",
            STRING,
            "Topic name, unique in the region and account: 1 to 256 characters of A-Z a-z 0-9 _ -, ending in .fifo for a FIFO topic.",
        )
        .force_new()
        // Topic names are case-sensitive and SNS reports them as given (in the ARN).
        .keep(Plain),
        Field::opt(
            "display_name",
            STRING,
            "Display name used as the sender of email notifications (up to 100 characters).",
        )
        // Absent clears it (SetTopicAttributes with an empty value), as the spec then asks for none.
        .clear(Plain),
        Field::opt(
            "kms_master_key_id",
            STRING,
            "KMS key (id, ARN or alias) that encrypts messages at rest; absent leaves them unencrypted. CloudWatch alarms can publish only with a customer managed key whose policy allows cloudwatch.amazonaws.com.",
        )
        // Absent turns encryption off (an empty KmsMasterKeyId); SNS reports the key as given,
        // and an alias cannot be resolved offline, hence the KMS key comparison.
        .clear(KmsKey),
        Field::opt(
            "fifo_topic",
            BOOL,
            "Whether the topic is FIFO (fixed at creation; the name must end in .fifo).",
        )
        .force_new()
        // Absent is no opinion: SNS derives nothing from it, and the name already says .fifo.
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The topic ARN, which subscriptions and alarm actions take."),
        computed("id", "The topic ARN, as regionctl identifies it."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Sns,
    needs_consent: false,
    stateful: false,
    import_id: "the topic ARN, arn:aws:sns:<region>:<account>:<name>",
    // Topics are usable as soon as CreateTopic answers; a wait only confirms.
    timing: Timing::secs_mins(1, 5, 2),
};

const SNS_SUBSCRIPTION: KindSchema = KindSchema {
    kind: Kind::SnsSubscription,
    doc: "A subscription of an email address or an HTTP(S) endpoint to an SNS topic. Email and HTTP(S) subscriptions stay pending until the endpoint confirms them.",
    fields: &[
        Field::req(
            "topic_arn",
            Ty::RefTo {
                kind: Kind::SnsTopic,
                attr: "arn",
            },
            "The topic to subscribe to, in the environment's region.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "protocol",
            Ty::Enum(&["email", "email-json", "http", "https"]),
            "How messages are delivered.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "endpoint",
            STRING,
            "Where messages are delivered: an email address, or an http:// / https:// URL matching the protocol.",
        )
        .force_new()
        // SNS reports the endpoint exactly as subscribed.
        .keep(Plain),
    ],
    computed: &[
        computed(
            "arn",
            "The subscription ARN (SNS gives it at once, even while the subscription is pending).",
        ),
        computed("id", "The subscription ARN, as regionctl identifies it."),
        computed(
            "pending_confirmation",
            "Whether the endpoint has not confirmed the subscription yet (true or false).",
        ),
    ],
    // Subscriptions take no tags: they are identified by the ARN in state, and a Subscribe
    // repeated after a lost answer returns the same subscription (SNS deduplicates by topic,
    // protocol and endpoint).
    taggable: false,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Sns,
    needs_consent: false,
    stateful: false,
    import_id: "the subscription ARN, arn:aws:sns:<region>:<account>:<topic>:<uuid>",
    timing: Timing::secs_mins(1, 5, 2),
};

const ALARM_STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
const ALARM_COMPARISONS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

const CLOUDWATCH_METRIC_ALARM: KindSchema = KindSchema {
    kind: Kind::CloudwatchMetricAlarm,
    doc: "A CloudWatch alarm on one metric (node CPU, RDS replica lag, a Route 53 health check's status), notifying SNS topics when its state changes.",
    fields: &[
        Field::req(
            "name",
            STRING,
            "Alarm name, unique in the region: 1 to 255 characters.",
        )
        .force_new()
        // Alarm names are case-sensitive and CloudWatch reports them as given.
        .keep(Plain),
        Field::opt(
            "description",
            STRING,
            "Description of the alarm (up to 1024 characters), shown in notifications.",
        )
        // PutMetricAlarm replaces the whole alarm: absent means no description.
        .clear(Plain),
        Field::req(
            "namespace",
            STRING,
            "Metric namespace, e.g. AWS/EC2, AWS/RDS, AWS/Route53, ContainerInsights.",
        )
        .keep(Plain),
        Field::req(
            "metric_name",
            STRING,
            "Metric name, e.g. CPUUtilization, ReplicaLag, HealthCheckStatus.",
        )
        .keep(Plain),
        Field::opt(
            "dimensions",
            Ty::Map(&Ty::String),
            "Metric dimensions, name to value (e.g. AutoScalingGroupName, DBInstanceIdentifier, HealthCheckId).",
        )
        // PutMetricAlarm replaces the whole alarm: absent means no dimensions. A map has no order.
        .clear(StrMap),
        Field::req(
            "statistic",
            Ty::Enum(ALARM_STATISTICS),
            "Statistic applied to the metric over each period.",
        )
        .keep(Plain),
        Field::req(
            "period",
            int_min(10),
            "Seconds per evaluated period: 10, 20, 30 or a multiple of 60.",
        )
        .keep(Plain),
        Field::req(
            "evaluation_periods",
            int_min(1),
            "Number of most recent periods evaluated (period × evaluation_periods at most one day).",
        )
        .keep(Plain),
        Field::opt(
            "datapoints_to_alarm",
            int_min(1),
            "Breaching periods among evaluation_periods that trigger the alarm (\"M out of N\"); absent means all of them.",
        )
        // PutMetricAlarm replaces the whole alarm: absent removes it (then all periods count).
        .clear(Plain),
        Field::req("threshold", Ty::Number, "Value the statistic is compared with.").keep(Plain),
        Field::req(
            "comparison_operator",
            Ty::Enum(ALARM_COMPARISONS),
            "How the statistic is compared with the threshold.",
        )
        .keep(Plain),
        Field::opt(
            "treat_missing_data",
            Ty::Enum(&["missing", "notBreaching", "breaching", "ignore"]),
            "How periods without data count (AWS default missing).",
        )
        // PutMetricAlarm without it makes it missing, which the update writes explicitly.
        .defaults_to("missing", Plain),
        Field::opt(
            "alarm_actions",
            STRINGS,
            "ARNs notified when the alarm enters ALARM (SNS topics in the alarm's region).",
        )
        // PutMetricAlarm replaces the whole alarm: absent means none; order carries no meaning.
        .clear(Set),
        Field::opt(
            "ok_actions",
            STRINGS,
            "ARNs notified when the alarm returns to OK.",
        )
        // As alarm_actions.
        .clear(Set),
        Field::opt(
            "insufficient_data_actions",
            STRINGS,
            "ARNs notified when the alarm enters INSUFFICIENT_DATA.",
        )
        // As alarm_actions.
        .clear(Set),
        Field::opt(
            "actions_enabled",
            BOOL,
            "Whether the actions run on state changes (AWS default true).",
        )
        // Absent is no opinion: the update sends the value the alarm has, so an alarm whose
        // actions someone disabled during an incident is not re-enabled behind their back.
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The alarm ARN."),
        computed("id", "The alarm name, as regionctl identifies it."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Cloudwatch,
    needs_consent: false,
    stateful: false,
    import_id: "the alarm name",
    // PutMetricAlarm and DeleteAlarms take effect at once; a wait only confirms.
    timing: Timing::secs_mins(1, 5, 2),
};

// ---------------------------------------------------------------------------------------------
// KMS.

const KMS_KEY_ID: Ty = Ty::RefTo {
    kind: Kind::KmsKey,
    attr: "id",
};
const KMS_KEY_ARN: Ty = Ty::RefTo {
    kind: Kind::KmsKey,
    attr: "arn",
};

const KMS_KEY: KindSchema = KindSchema {
    kind: Kind::KmsKey,
    doc: "A symmetric customer managed KMS key (ENCRYPT_DECRYPT), with its key policy and automatic rotation: for EKS secrets, RDS, ElastiCache and log encryption.",
    fields: &[
        Field::opt(
            "description",
            STRING,
            "Description of the key (at most 8192 characters).",
        )
        // Absent is no description: UpdateKeyDescription writes an empty one, as KMS reports.
        .clear(Plain),
        Field::opt(
            "enable_key_rotation",
            BOOL,
            "Whether KMS rotates the key material automatically (AWS default false; `check` requires true).",
        )
        // Absent leaves rotation as it is (off for a new key): RC111 flags that in `check`.
        .keep(Plain),
        Field::opt(
            "rotation_period_in_days",
            int(90, 2560),
            "Days between automatic rotations, with rotation on (AWS default 365).",
        )
        // Absent leaves AWS's period; KMS reports it only while rotation is on.
        .keep(Plain),
        Field::opt(
            "policy",
            Ty::Document,
            "Key policy (a map, or a JSON string); absent gives the default policy, which lets the account's IAM policies grant use of the key.",
        )
        // Compared as JSON, not as text: KMS returns the policy reformatted. Absent keeps the
        // live policy, as a key always has one and KMS has no call to remove it.
        .keep(Document),
        Field::opt(
            "deletion_window_in_days",
            int(7, 30),
            "Days between a delete (ScheduleKeyDeletion) and the key's deletion, during which it can be cancelled (AWS default 30).",
        )
        // KMS reports the window only while a deletion is pending; it is read from state at
        // delete time.
        .write_only(),
        TAGS_FIELD,
    ],
    computed: &[
        computed("id", "The key id (a UUID)."),
        computed(
            "arn",
            "The key ARN (arn:aws:kms:<region>:<account>:key/<id>), as RDS, ElastiCache and EKS take it.",
        ),
    ],
    taggable: true,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Kms,
    // Deleting a key makes everything encrypted with it unreadable once the window passes.
    needs_consent: true,
    stateful: true,
    import_id: "the key id (1234abcd-12ab-34cd-56ef-1234567890ab)",
    // Keys are usable at once; a deletion is only scheduled.
    timing: Timing::secs_mins(1, 5, 2),
};

const KMS_ALIAS: KindSchema = KindSchema {
    kind: Kind::KmsAlias,
    doc: "A KMS alias (alias/<name>) pointing at a customer managed key of the same region.",
    fields: &[
        Field::req(
            "name",
            STRING,
            "Alias name: alias/ followed by 1 to 250 letters, digits and / _ -; alias/aws/ is reserved for AWS.",
        )
        .force_new()
        // KMS stores alias names as given (case-sensitive).
        .keep(Plain),
        Field::req(
            "target_key_id",
            KMS_KEY_ID,
            "The key the alias points at: its id or ARN (UpdateAlias re-points it in place).",
        )
        // ListAliases reports the key id; an ARN given in the spec is the same key.
        .keep(KmsKey),
    ],
    computed: &[
        computed("id", "The alias name, as regionctl identifies it."),
        computed("arn", "The alias ARN."),
        computed("target_key_arn", "The ARN of the key the alias points at."),
    ],
    // KMS aliases take no tags: one named in the spec is found again by its name.
    taggable: false,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Kms,
    needs_consent: false,
    stateful: false,
    import_id: "the alias name (alias/...)",
    timing: Timing::secs_mins(1, 5, 2),
};

// ---------------------------------------------------------------------------------------------
// IAM customer managed policies.

const IAM_POLICY_ARN: Ty = Ty::RefTo {
    kind: Kind::IamPolicy,
    attr: "arn",
};

const IAM_POLICY: KindSchema = KindSchema {
    kind: Kind::IamPolicy,
    doc: "A customer managed IAM policy (for example the permissions of an IRSA role), attached to roles through their managed_policy_arns.",
    fields: &[
        Field::req(
            "name",
            STRING,
            "Policy name, unique in the account and path: 1 to 128 letters, digits and + = , . @ _ -.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "policy",
            Ty::Document,
            "The policy document (a map, or a JSON string). A change is a new default version; the oldest versions beyond IAM's limit of 5 are deleted.",
        )
        // Compared as JSON, not text: IAM answers the document URL-encoded and reformatted, and
        // reads a one-element list and its element alike.
        .keep(Document),
        Field::opt(
            "description",
            Ty::Format(Format::IamDescription),
            "Description of the policy, fixed at creation.",
        )
        .force_new()
        // Absent is no opinion: a live description never replaces a policy attached to roles.
        .keep(Plain),
        Field::opt(
            "path",
            Ty::Format(Format::IamPath),
            "Path of the policy, e.g. /platform/ (AWS default /).",
        )
        .force_new()
        .keep(Plain),
        TAGS_FIELD,
    ],
    computed: &[
        computed(
            "arn",
            "The policy ARN (arn:aws:iam::<account>:policy/<path><name>), as roles attach it.",
        ),
        computed("id", "The policy ARN, as regionctl identifies it."),
        computed("policy_id", "The stable unique id AWS assigns (ANPA...)."),
        computed("default_version_id", "The version in force (v1, v2 ...)."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    // As iam_role: an IRSA role's policy is declared next to it.
    placement: Placement::GlobalAnyEnv,
    service: Service::Iam,
    needs_consent: false,
    stateful: false,
    import_id: "the policy ARN",
    timing: Timing::secs_mins(2, 15, 10),
};

// ---------------------------------------------------------------------------------------------
// ECR.

const ECR_REPLICATION_DESTINATION: &[Field] = &[
    Field::req(
        "region",
        STRING,
        "Region to replicate to (not the registry's own region).",
    )
    .part(),
    Field::opt(
        "registry_id",
        STRING,
        "Account id of the destination registry (default: this account).",
    )
    .part(),
];

const ECR_REPOSITORY: KindSchema = KindSchema {
    kind: Kind::EcrRepository,
    doc: "An ECR private repository, with image scanning on push, tag immutability, a lifecycle policy and encryption at rest.",
    fields: &[
        Field::req(
            "name",
            STRING,
            "Repository name, unique in the registry: 2 to 256 lowercase letters, digits and . _ - /, e.g. platform/api.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "scan_on_push",
            BOOL,
            "Whether each pushed image is scanned for vulnerabilities (AWS default false; `check` requires true).",
        )
        // Absent leaves the setting alone (off for a new repository): RC113 flags that.
        .keep(Plain),
        Field::opt(
            "image_tag_mutability",
            Ty::Enum(&["MUTABLE", "IMMUTABLE"]),
            "Whether a tag can be pushed again to another image (AWS default MUTABLE; `check` requires IMMUTABLE).",
        )
        // Absent leaves the setting alone: RC114 flags a mutable repository.
        .keep(Plain),
        Field::opt(
            "lifecycle_policy",
            Ty::Document,
            "Lifecycle policy (a map, or a JSON string): which images ECR expires.",
        )
        // Compared as JSON, not text. Absent deletes the policy (DeleteLifecyclePolicy): a
        // dropped policy must stop expiring images.
        .clear(Document),
        Field::opt(
            "encryption_type",
            Ty::Enum(&["AES256", "KMS"]),
            "Encryption at rest, fixed at creation: AES256 (S3-managed keys, AWS default) or KMS.",
        )
        .force_new()
        // Absent is no opinion: an existing repository is never replaced for the default.
        .keep(Plain),
        Field::opt(
            "kms_key",
            KMS_KEY_ARN,
            "KMS key ARN with encryption_type KMS (default: the aws/ecr key), fixed at creation.",
        )
        .force_new()
        // ECR reports the key's ARN; an alias must not replace a repository full of images.
        .keep(KmsKey),
        Field::opt(
            "force_delete",
            BOOL,
            "Whether deleting the repository also deletes its images (default false: a repository with images is not deleted).",
        )
        // Only read at delete time, from the configuration last applied.
        .write_only(),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The repository ARN."),
        computed("id", "The repository name, as regionctl identifies it."),
        computed(
            "repository_url",
            "<account>.dkr.ecr.<region>.amazonaws.com/<name>, what docker push and image references take.",
        ),
        computed("registry_id", "The account id of the registry."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: Some("name"),
    placement: Placement::Regional,
    service: Service::Ecr,
    // Deleting or replacing a repository deletes its images.
    needs_consent: true,
    stateful: true,
    import_id: "the repository name",
    timing: Timing::secs_mins(1, 5, 2),
};

const ECR_REPLICATION_CONFIGURATION: KindSchema = KindSchema {
    kind: Kind::EcrReplicationConfiguration,
    doc: "The replication configuration of a region's private registry (one per account and region, declared in the primary region): images pushed there are copied to the destination regions.",
    fields: &[
        Field::req(
            "destinations",
            Ty::List(&Ty::Object(ECR_REPLICATION_DESTINATION)),
            "Where images are replicated: up to 25 regions (and registries).",
        )
        // In the order given, as ECR keeps it; a destination in this account is reported
        // without its registry_id.
        .keep(Plain),
        Field::opt(
            "repository_filters",
            STRINGS,
            "Repository name prefixes to replicate (PREFIX_MATCH); absent replicates every repository.",
        )
        // Absent is no filter (every repository), which the update writes.
        .clear(Set),
    ],
    computed: &[computed(
        "id",
        "The registry id (the account id), as regionctl identifies it.",
    )],
    // The configuration is a property of the registry: there is nothing to tag.
    taggable: false,
    natural_name: None,
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Ecr,
    needs_consent: false,
    stateful: false,
    import_id: "the registry id (the account id)",
    timing: Timing::secs_mins(1, 5, 2),
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Calls `f` on every field, nested object fields included, with a path for messages.
    fn walk_fields(fields: &'static [Field], path: &str, f: &mut dyn FnMut(&str, &'static Field)) {
        for field in fields {
            let here = format!("{path}.{}", field.name);
            f(&here, field);
            walk_ty(&field.ty, &here, f);
        }
    }

    fn walk_ty(ty: &'static Ty, path: &str, f: &mut dyn FnMut(&str, &'static Field)) {
        match ty {
            Ty::List(inner) | Ty::Map(inner) => walk_ty(inner, path, f),
            Ty::Object(fields) => walk_fields(fields, path, f),
            _ => {}
        }
    }

    fn all_fields() -> Vec<(String, &'static Field)> {
        let mut out = Vec::new();
        for s in &SCHEMAS {
            walk_fields(s.fields, s.kind.name(), &mut |p, f| {
                out.push((p.to_string(), f))
            });
        }
        out
    }

    fn field_names_unique(fields: &'static [Field], path: &str) {
        let mut seen = BTreeSet::new();
        for f in fields {
            assert!(seen.insert(f.name), "duplicate field {path}.{}", f.name);
            let mut ty = &f.ty;
            while let Ty::List(inner) | Ty::Map(inner) = ty {
                ty = inner;
            }
            if let Ty::Object(inner) = ty {
                field_names_unique(inner, &format!("{path}.{}", f.name));
            }
        }
    }

    #[test]
    fn kind_facts_hold_together() {
        for s in &SCHEMAS {
            let k = s.kind;
            // Consent is asked for what losing costs data or hours; such a kind is stateful.
            assert!(
                !s.needs_consent || s.stateful,
                "{k}: consent without stateful"
            );
            if let Some(hint) = s.refresh_hint {
                assert!(
                    s.field(hint).is_some(),
                    "{k}: refresh hint {hint} is not a field"
                );
            }
            // Every service a kind uses is rate limited, so an apply never throttles itself.
            assert!(
                s.service.is_limited(),
                "{k}: service {} has no request rate",
                s.service
            );
            assert!(!s.import_id.is_empty(), "{k}: no import id form");
            let t = s.timing;
            assert!(
                t.first <= t.longest && t.longest < t.limit,
                "{k}: timing {t:?}"
            );
            // A write-only field is never reported by AWS, so it can have no comparison rule.
            for f in s.fields.iter().filter(|f| f.write_only) {
                assert_eq!(f.cmp.norm, Norm::Plain, "{k}.{}", f.name);
            }
        }
    }

    #[test]
    fn one_schema_per_kind_in_all_order() {
        assert_eq!(SCHEMAS.len(), Kind::ALL.len());
        for (i, k) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(SCHEMAS[i].kind, k, "SCHEMAS[{i}] is out of order");
            assert_eq!(schema(k).kind, k);
        }
    }

    #[test]
    fn every_ref_points_at_an_existing_attribute() {
        for (path, f) in all_fields() {
            let mut ty = &f.ty;
            while let Ty::List(inner) | Ty::Map(inner) = ty {
                ty = inner;
            }
            if let Ty::RefTo { kind, attr } = ty {
                assert!(
                    schema(*kind).has_attr(attr),
                    "{path} refers to {kind}.{attr}, which does not exist"
                );
            }
        }
    }

    #[test]
    fn no_duplicate_names() {
        for s in &SCHEMAS {
            field_names_unique(s.fields, s.kind.name());
            let mut seen = BTreeSet::new();
            for c in s.computed {
                assert!(
                    seen.insert(c.name),
                    "duplicate computed {}.{}",
                    s.kind,
                    c.name
                );
            }
        }
    }

    #[test]
    fn computed_attributes_may_shadow_no_field() {
        for s in &SCHEMAS {
            for c in s.computed {
                assert!(
                    s.field(c.name).is_none(),
                    "{}.{} is both a field and computed",
                    s.kind,
                    c.name
                );
            }
        }
    }

    #[test]
    fn tags_field_iff_taggable() {
        for s in &SCHEMAS {
            let tags = s.field("tags");
            assert_eq!(
                tags.is_some(),
                s.taggable,
                "{}: tags field and taggable disagree",
                s.kind
            );
            if let Some(t) = tags {
                assert!(
                    matches!(t.ty, Ty::Map(&Ty::String)),
                    "{}.tags must be a map of strings",
                    s.kind
                );
                assert!(
                    !t.required && !t.force_new,
                    "{}.tags must be optional and updatable",
                    s.kind
                );
            }
        }
        assert!(!schema(Kind::Route53Record).taggable);
    }

    #[test]
    fn natural_names_are_required_force_new_fields() {
        for s in &SCHEMAS {
            if let Some(n) = s.natural_name {
                let f = s
                    .field(n)
                    .unwrap_or_else(|| panic!("{}: natural_name {n} is not a field", s.kind));
                assert!(
                    f.required && f.force_new,
                    "{}.{n} must be required and force_new",
                    s.kind
                );
            }
        }
        assert_eq!(schema(Kind::RdsInstance).natural_name, Some("identifier"));
        assert_eq!(
            schema(Kind::ElasticacheReplicationGroup).natural_name,
            Some("replication_group_id")
        );
    }

    #[test]
    fn every_field_and_computed_is_documented_in_one_line() {
        for (path, f) in all_fields() {
            assert!(
                !f.doc.trim().is_empty() && !f.doc.contains('\n'),
                "{path} needs a one-line doc"
            );
        }
        for s in &SCHEMAS {
            assert!(!s.doc.is_empty(), "{} needs a doc", s.kind);
            for c in s.computed {
                assert!(
                    !c.doc.trim().is_empty() && !c.doc.contains('\n'),
                    "{}.{} needs a doc",
                    s.kind,
                    c.name
                );
            }
        }
    }

    #[test]
    fn int_bounds_are_ordered_and_enums_non_empty() {
        for (path, f) in all_fields() {
            let mut ty = &f.ty;
            while let Ty::List(inner) | Ty::Map(inner) = ty {
                ty = inner;
            }
            match ty {
                Ty::Int {
                    min: Some(lo),
                    max: Some(hi),
                } => assert!(lo <= hi, "{path}: {lo} > {hi}"),
                Ty::Enum(values) => {
                    assert!(!values.is_empty(), "{path}: empty enum");
                    let unique: BTreeSet<_> = values.iter().collect();
                    assert_eq!(unique.len(), values.len(), "{path}: duplicate enum value");
                }
                _ => {}
            }
        }
    }

    #[test]
    fn agreed_attribute_names_exist() {
        // Other modules (validation rules, examples, docs) are written against these names.
        let expected: &[(Kind, &[&str], &[&str])] = &[
            (
                Kind::Vpc,
                &[
                    "cidr_block",
                    "enable_dns_support",
                    "enable_dns_hostnames",
                    "tags",
                ],
                &["id", "arn"],
            ),
            (
                Kind::Subnet,
                &[
                    "vpc_id",
                    "cidr_block",
                    "availability_zone",
                    "map_public_ip_on_launch",
                    "tags",
                ],
                &["id", "arn"],
            ),
            (Kind::InternetGateway, &["vpc_id", "tags"], &["id", "arn"]),
            (
                Kind::NatGateway,
                &["subnet_id", "connectivity_type", "tags"],
                &["id", "allocation_id", "public_ip"],
            ),
            (
                Kind::RouteTable,
                &["vpc_id", "routes", "subnet_ids", "tags"],
                &["id"],
            ),
            (
                Kind::SecurityGroup,
                &["name", "description", "vpc_id", "ingress", "egress", "tags"],
                &["id", "arn"],
            ),
            (
                Kind::IamRole,
                &[
                    "name",
                    "assume_role_policy",
                    "managed_policy_arns",
                    "path",
                    "description",
                    "max_session_duration",
                    "tags",
                ],
                &["arn", "id", "unique_id"],
            ),
            (
                Kind::EksCluster,
                &[
                    "name",
                    "version",
                    "role_arn",
                    "subnet_ids",
                    "security_group_ids",
                    "endpoint_public_access",
                    "endpoint_private_access",
                    "public_access_cidrs",
                    "logging",
                    "tags",
                ],
                &[
                    "arn",
                    "id",
                    "endpoint",
                    "certificate_authority",
                    "oidc_issuer",
                    "platform_version",
                ],
            ),
            (
                Kind::EksNodeGroup,
                &[
                    "cluster_name",
                    "name",
                    "node_role_arn",
                    "subnet_ids",
                    "instance_types",
                    "capacity_type",
                    "ami_type",
                    "disk_size",
                    "version",
                    "scaling",
                    "labels",
                    "taints",
                    "update_config",
                    "tags",
                ],
                &["arn", "id", "status"],
            ),
            (
                Kind::DbSubnetGroup,
                &["name", "description", "subnet_ids", "tags"],
                &["arn", "id"],
            ),
            (
                Kind::RdsInstance,
                &[
                    "identifier",
                    "engine",
                    "engine_version",
                    "instance_class",
                    "allocated_storage",
                    "max_allocated_storage",
                    "storage_type",
                    "iops",
                    "storage_encrypted",
                    "kms_key_id",
                    "multi_az",
                    "db_subnet_group",
                    "vpc_security_group_ids",
                    "db_name",
                    "master_username",
                    "manage_master_user_password",
                    "master_password_env",
                    "port",
                    "publicly_accessible",
                    "backup_retention_period",
                    "preferred_backup_window",
                    "deletion_protection",
                    "skip_final_snapshot",
                    "final_snapshot_identifier",
                    "replicate_from",
                    "apply_immediately",
                    "tags",
                ],
                &["arn", "id", "endpoint", "address", "resource_id"],
            ),
            (
                Kind::CacheSubnetGroup,
                &["name", "description", "subnet_ids", "tags"],
                &["arn"],
            ),
            (
                Kind::ElasticacheReplicationGroup,
                &[
                    "replication_group_id",
                    "description",
                    "engine",
                    "engine_version",
                    "node_type",
                    "num_cache_clusters",
                    "automatic_failover",
                    "multi_az",
                    "cache_subnet_group",
                    "security_group_ids",
                    "at_rest_encryption",
                    "transit_encryption",
                    "port",
                    "snapshot_retention_limit",
                    "tags",
                ],
                &["arn", "primary_endpoint", "reader_endpoint"],
            ),
            (
                Kind::Route53Zone,
                &["name", "comment", "tags"],
                &["id", "arn", "name_servers"],
            ),
            (
                Kind::Route53HealthCheck,
                &[
                    "type",
                    "fqdn",
                    "ip_address",
                    "port",
                    "resource_path",
                    "search_string",
                    "request_interval",
                    "failure_threshold",
                    "measure_latency",
                    "regions",
                    "inverted",
                    "disabled",
                    "tags",
                ],
                &["id"],
            ),
            (
                Kind::Route53Record,
                &[
                    "zone_id",
                    "name",
                    "type",
                    "ttl",
                    "records",
                    "alias",
                    "set_identifier",
                    "routing",
                    "health_check_id",
                ],
                &["fqdn", "id"],
            ),
        ];
        for (kind, fields, computed) in expected {
            let s = schema(*kind);
            for f in *fields {
                assert!(s.field(f).is_some(), "{kind}.{f} is missing");
            }
            for c in *computed {
                assert!(s.computed(c).is_some(), "computed {kind}.{c} is missing");
            }
        }
    }

    #[test]
    fn replacement_rules_follow_aws() {
        let force_new = |k: Kind, f: &str| schema(k).field(f).expect("field exists").force_new;
        assert!(force_new(Kind::Vpc, "cidr_block"));
        assert!(!force_new(Kind::InternetGateway, "vpc_id"));
        assert!(
            !force_new(Kind::RdsInstance, "replicate_from"),
            "removing replicate_from promotes in place"
        );
        assert!(!force_new(Kind::RdsInstance, "instance_class"));
        assert!(force_new(Kind::RdsInstance, "storage_encrypted"));
        assert!(!force_new(Kind::EksCluster, "version"));
        assert!(force_new(Kind::EksNodeGroup, "instance_types"));
        assert!(force_new(
            Kind::ElasticacheReplicationGroup,
            "at_rest_encryption"
        ));
        assert!(!force_new(
            Kind::ElasticacheReplicationGroup,
            "transit_encryption"
        ));
        assert!(
            schema(Kind::RdsInstance)
                .field("master_password_env")
                .expect("exists")
                .sensitive
        );
    }

    #[test]
    fn nested_blocks_have_the_agreed_shape() {
        let obj = |k: Kind, f: &str| -> &'static [Field] {
            let mut ty = &schema(k).field(f).expect("field exists").ty;
            while let Ty::List(inner) = ty {
                ty = inner;
            }
            match ty {
                Ty::Object(fields) => fields,
                other => panic!("{k}.{f} is {other:?}, not an object"),
            }
        };
        let names = |fs: &[Field]| fs.iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(
            names(obj(Kind::RouteTable, "routes")),
            ["destination_cidr_block", "gateway_id", "nat_gateway_id"]
        );
        assert_eq!(
            names(obj(Kind::SecurityGroup, "ingress")),
            [
                "protocol",
                "from_port",
                "to_port",
                "cidr_blocks",
                "source_security_group_id",
                "description"
            ]
        );
        assert_eq!(
            names(obj(Kind::EksNodeGroup, "scaling")),
            ["min", "desired", "max"]
        );
        assert_eq!(
            names(obj(Kind::EksNodeGroup, "taints")),
            ["key", "value", "effect"]
        );
        assert_eq!(
            names(obj(Kind::EksNodeGroup, "update_config")),
            ["max_unavailable", "max_unavailable_percentage"]
        );
        assert_eq!(
            names(obj(Kind::Route53Record, "alias")),
            ["name", "zone_id", "evaluate_target_health"]
        );
        assert_eq!(
            names(obj(Kind::Route53Record, "routing")),
            ["latency", "failover", "weighted"]
        );
    }
}

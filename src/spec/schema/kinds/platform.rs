//! The declarations of the kinds that make an EKS cluster a platform (issue 15): launch templates
//! for node groups, the cluster's IAM OIDC provider, managed add-ons and access entries. A child
//! of `kinds.rs` so it shares that table's shorthands; `kinds!` lists them with the others.

use super::*;

/// The EBS volume types a launch template's block device mapping takes.
const VOLUME_TYPES: Ty = Ty::Enum(&["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"]);

// ---------------------------------------------------------------------------------------------
// EC2 launch templates.

// Every data field is `clear`: an update writes a whole new version from the spec (EC2 versions
// are immutable), so what the spec leaves out is not in the new version, and a live value the
// spec dropped is a change.
pub(super) const LAUNCH_TEMPLATE: KindSchema = KindSchema {
    kind: Kind::LaunchTemplate,
    doc: "An EC2 launch template for EKS managed node groups: instance metadata options (IMDSv2), the root volume and instance tags. A change writes a new version and makes it the default; a node group refers to it by id and version.",
    fields: &[
        Field::req(
            "name",
            STRING,
            "Launch template name, unique in the region: 3 to 128 characters of A-Z a-z 0-9 ( ) . - / _.",
        )
        .force_new()
        // EC2 keeps the name as given.
        .keep(Plain),
        Field::opt(
            "http_tokens",
            Ty::Enum(&["required", "optional"]),
            "Instance metadata service: required means IMDSv2 only (session tokens), optional also allows IMDSv1; absent leaves the AMI's default (optional for the EKS AMIs).",
        )
        .clear(Plain),
        Field::opt(
            "http_put_response_hop_limit",
            int(1, 64),
            "Network hops a metadata token may travel; 2 lets pods without host networking reach IMDS, 1 keeps them out (AWS default 1).",
        )
        .clear(Plain),
        Field::opt(
            "http_endpoint",
            Ty::Enum(&["enabled", "disabled"]),
            "Whether the instance metadata endpoint is reachable at all (AWS default enabled).",
        )
        .clear(Plain),
        Field::opt(
            "root_volume_size",
            int(1, 16384),
            "Root volume size in GiB (replaces a node group's disk_size, which EKS refuses with a launch template).",
        )
        .clear(Plain),
        Field::opt("root_volume_type", VOLUME_TYPES, "Root volume EBS type, e.g. gp3.")
            .clear(Plain),
        Field::opt(
            "root_volume_encrypted",
            BOOL,
            "Whether the root volume is encrypted (with root_volume_kms_key_id, or the account's EBS default key).",
        )
        .clear(Plain),
        Field::opt(
            "root_volume_kms_key_id",
            STRING,
            "ARN of the KMS key that encrypts the root volume; needs root_volume_encrypted: true.",
        )
        // EC2 keeps the key as given; an alias cannot be resolved offline (see Norm::KmsKey).
        .clear(KmsKey),
        Field::opt(
            "root_device_name",
            STRING,
            "Device name of the root volume the settings above apply to (the EKS AL2 and AL2023 AMIs use /dev/xvda).",
        )
        // The provider writes /dev/xvda when a root volume setting is given without a name.
        .defaults_to("/dev/xvda", Plain),
        Field::opt("image_id", STRING, "AMI id for the nodes (a custom AMI); absent lets EKS pick its optimized AMI.")
            .clear(Plain),
        Field::opt(
            "instance_tags",
            TAGS,
            "Tags for the instances (and their volumes) launched from the template.",
        )
        .clear(StrMap),
        TAGS_FIELD,
    ],
    computed: &[
        computed("id", "The launch template id (lt-...)."),
        computed("arn", "The launch template ARN."),
        computed_updated(
            "latest_version",
            "The newest version number, as a string (the one regionctl made the default); a node group's launch_template_version.",
        ),
        computed_updated("default_version", "The default version number, as a string."),
    ],
    taggable: true,
    natural_name: Some("name"),
    refresh_hint: None,
    placement: Placement::Regional,
    service: Service::Ec2,
    needs_consent: false,
    stateful: false,
    import_id: "lt-...",
    // Create, new versions and delete take effect at once.
    timing: Timing::secs_mins(1, 5, 2),
};

// ---------------------------------------------------------------------------------------------
// IAM OIDC providers (IRSA).

pub(super) const IAM_OIDC_PROVIDER: KindSchema = KindSchema {
    kind: Kind::IamOidcProvider,
    doc: "The IAM OpenID Connect provider of an EKS cluster's OIDC issuer, which IAM roles for service accounts (IRSA) trust. One per cluster, declared next to it (IAM is global, the provider belongs to the cluster's region).",
    fields: &[
        Field::req(
            "url",
            STRING,
            "The issuer URL, https://...: usually ${eks_cluster.<name>.oidc_issuer}.",
        )
        .force_new()
        // The provider reports the URL as the spec gives it, https:// included.
        .keep(Plain),
        Field::opt(
            "client_id_list",
            STRINGS,
            "Audiences allowed to use the provider (default [sts.amazonaws.com], what EKS pod identity webhooks request).",
        )
        // Absent, the create writes [sts.amazonaws.com] and an update leaves the list alone;
        // given, the set is managed exactly (AddClientIDToOpenIDConnectProvider /
        // RemoveClientIDFromOpenIDConnectProvider).
        .keep(Set),
        Field::opt(
            "thumbprint_list",
            STRINGS,
            "SHA-1 thumbprints (40 hex digits) of the issuer's certificate chain; absent lets IAM work it out (it no longer checks them for EKS issuers, whose certificates it trusts by their CA).",
        )
        // Absent is no opinion: IAM computes and stores a thumbprint itself when none is given,
        // as AWS documents, so the live list is never a change. Given, compared as a set
        // (UpdateOpenIDConnectProviderThumbprint replaces the list).
        .keep(Set),
        TAGS_FIELD,
    ],
    computed: &[
        computed(
            "arn",
            "The provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer host and path>), the Federated principal of IRSA trust policies.",
        ),
        computed("id", "The provider ARN, as regionctl identifies it."),
        computed(
            "issuer",
            "The issuer without https://, as IRSA trust policy conditions name it (<issuer>:sub, <issuer>:aud).",
        ),
    ],
    taggable: true,
    natural_name: Some("url"),
    refresh_hint: Some("url"),
    placement: Placement::Regional,
    service: Service::Iam,
    needs_consent: false,
    stateful: false,
    import_id: "the provider ARN (arn:aws:iam::<account>:oidc-provider/...)",
    timing: Timing::secs_mins(1, 5, 2),
};

// ---------------------------------------------------------------------------------------------
// EKS managed add-ons.

pub(super) const EKS_ADDON: KindSchema = KindSchema {
    kind: Kind::EksAddon,
    doc: "An EKS managed add-on (vpc-cni, coredns, kube-proxy, aws-ebs-csi-driver, eks-pod-identity-agent ...) of one cluster.",
    fields: &[
        Field::req(
            "cluster_name",
            Ty::RefTo {
                kind: Kind::EksCluster,
                attr: "name",
            },
            "Name of the cluster the add-on runs in.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "addon_name",
            STRING,
            "The add-on, as DescribeAddonVersions names it: vpc-cni, coredns, kube-proxy, aws-ebs-csi-driver, eks-pod-identity-agent ...",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "addon_version",
            STRING,
            "Pinned version, e.g. v1.19.2-eksbuild.1; absent installs the default for the cluster's Kubernetes version (DescribeAddonVersions) and leaves it after.",
        )
        // Absent is "the default at creation": a later default (after a cluster upgrade) is not
        // a change, or every upgrade would plan every add-on; pin it to move it.
        .keep(Plain),
        Field::opt(
            "service_account_role_arn",
            IAM_ROLE_ARN,
            "IAM role (IRSA) the add-on's service account assumes, e.g. for aws-ebs-csi-driver or vpc-cni.",
        )
        // Absent leaves the role EKS has: UpdateAddon cannot be told "none" reliably.
        .keep(Plain),
        Field::opt(
            "resolve_conflicts",
            Ty::Enum(&["NONE", "OVERWRITE", "PRESERVE"]),
            "What EKS does with fields changed by hand in the cluster when it creates or updates the add-on (PRESERVE applies to updates; a create then uses NONE).",
        )
        .write_only(),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The add-on ARN."),
        computed("id", "cluster_name/addon_name, as regionctl identifies it."),
        computed("status", "The add-on status, e.g. ACTIVE."),
    ],
    taggable: true,
    natural_name: Some("addon_name"),
    // The clusters whose add-ons a refresh lists (ListAddons per cluster).
    refresh_hint: Some("cluster_name"),
    placement: Placement::Regional,
    service: Service::Eks,
    needs_consent: false,
    stateful: false,
    import_id: "cluster-name/addon-name",
    timing: Timing::secs_mins(10, 30, 20),
};

// ---------------------------------------------------------------------------------------------
// EKS access entries.

/// The access scope of one access policy association.
const ACCESS_SCOPE_FIELDS: [Field; 2] = [
    Field::req(
        "type",
        Ty::Enum(&["cluster", "namespace"]),
        "cluster: the policy applies to the whole cluster; namespace: only to `namespaces`.",
    )
    .part(),
    Field::opt(
        "namespaces",
        STRINGS,
        "The namespaces a namespace scope covers (required with type namespace; EKS allows a trailing * wildcard).",
    )
    .part(),
];

const ACCESS_POLICY_FIELDS: [Field; 2] = [
    Field::req(
        "policy_arn",
        STRING,
        "An EKS access policy, e.g. arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy or .../AmazonEKSViewPolicy.",
    )
    .part(),
    Field::opt(
        "access_scope",
        Ty::Object(&ACCESS_SCOPE_FIELDS),
        "Where the policy applies (default: the whole cluster).",
    )
    .part(),
];

pub(super) const EKS_ACCESS_ENTRY: KindSchema = KindSchema {
    kind: Kind::EksAccessEntry,
    doc: "An EKS access entry: an IAM principal's access to one cluster (through Kubernetes groups, EKS access policies, or both). The cluster's authentication_mode must be API or API_AND_CONFIG_MAP.",
    fields: &[
        Field::req(
            "cluster_name",
            Ty::RefTo {
                kind: Kind::EksCluster,
                attr: "name",
            },
            "Name of the cluster the entry gives access to.",
        )
        .force_new()
        .keep(Plain),
        Field::req(
            "principal_arn",
            IAM_ROLE_ARN,
            "ARN of the IAM role (or user) given access; one entry per principal and cluster. Node types (EC2_LINUX ...) take roles only.",
        )
        .force_new()
        .keep(Plain),
        Field::opt(
            "type",
            Ty::Enum(&[
                "STANDARD",
                "EC2_LINUX",
                "EC2_WINDOWS",
                "FARGATE_LINUX",
                "EC2",
                "HYBRID_LINUX",
                "HYPERPOD_LINUX",
            ]),
            "STANDARD (people, CI) or a node type; cannot be changed after creation (default STANDARD).",
        )
        .force_new()
        // CreateAccessEntry without a type makes a STANDARD entry, and DescribeAccessEntry says so.
        .defaults_to("STANDARD", Plain),
        Field::opt(
            "kubernetes_groups",
            STRINGS,
            "Kubernetes group names RoleBindings and ClusterRoleBindings may name to authorize the principal (Kubernetes RBAC).",
        )
        // Absent leaves EKS's groups: a node entry gets `system:nodes` by EKS, not the spec.
        // `[]` removes every group.
        .keep(Set),
        Field::opt(
            "username",
            STRING,
            "Kubernetes username of the principal; absent lets EKS generate one (the user ARN, or arn:aws:sts::<account>:assumed-role/<role>/{{SessionName}}). Cannot start with system:, eks:, aws:, amazon: or iam:.",
        )
        // Absent keeps the username EKS generated (terraform-provider-aws: Optional + Computed).
        .keep(Plain),
        Field::opt(
            "access_policies",
            Ty::List(&Ty::Object(&ACCESS_POLICY_FIELDS)),
            "EKS access policies associated with the entry, each with its scope; exactly these are associated (others are disassociated).",
        )
        // Absent is none: the update disassociates every policy the spec does not list.
        .clear(AccessPolicies),
        TAGS_FIELD,
    ],
    computed: &[
        computed("arn", "The access entry ARN."),
        computed("id", "cluster_name:principal_arn, as regionctl identifies it."),
    ],
    taggable: true,
    // The principal names the entry within its cluster: a replacement (a new type) deletes the
    // old entry first, since EKS allows one entry per principal.
    natural_name: Some("principal_arn"),
    // The clusters whose access entries a refresh lists (ListAccessEntries per cluster).
    refresh_hint: Some("cluster_name"),
    placement: Placement::Regional,
    service: Service::Eks,
    needs_consent: false,
    stateful: false,
    // As terraform-provider-aws imports aws_eks_access_entry.
    import_id: "cluster-name:principal-arn",
    // An entry is usable as soon as CreateAccessEntry answers.
    timing: Timing::secs_mins(1, 5, 2),
};

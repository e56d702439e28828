//! The kinds the grown examples added (KMS, CloudWatch Logs and alarms, launch templates, EKS
//! add-ons and access entries, OIDC providers, IAM policies, ECR, SNS), listed straight from the emulator with boto3 for the
//! inventories of `apply_live`, `apply_resilience` and `apply_faults`: one Python snippet, so the
//! three agree on what exists.
//!
//! The snippet defines `list_added_kinds(found, unkeyed, regions)`. It calls
//! `found(kind, region, tags, id)` for every resource of a taggable kind (tags as a dict, id as
//! regionctl's state records it) and `unkeyed(kind, region, key, id, owner)` for the kinds that
//! take no tags, keyed by what identifies them without one: a KMS alias by its name, an SNS
//! subscription by `protocol endpoint` (SNS lists a pending one without its ARN, so the id is
//! then its topic's ARN), the registry's replication configuration by its region. `owner` is the
//! `regionctl:stack` tag of what it belongs to (the alias's key, the subscription's topic), or
//! None for the replication configuration, which is the account's, not a stack's: two projects
//! declaring it in one account and region overwrite each other's. KMS keys pending deletion (what
//! a deleted key is for 7 to 30 days) and AWS managed keys and aliases (`alias/aws/...`, and the
//! keys they point at) are left out.

/// The Python snippet; the script it is pasted into must define `client(service, region)`.
pub const ADDED_KINDS_PY: &str = r#"
def _tags(tags):
    if isinstance(tags, list):
        return {t.get('Key', t.get('TagKey')): t.get('Value', t.get('TagValue')) for t in tags}
    return dict(tags or {})

def _oidc_region(arn):
    host = arn.split('oidc-provider/', 1)[-1].split('/', 1)[0]
    parts = host.split('.')
    return parts[2] if len(parts) > 3 and parts[0] == 'oidc' and parts[1] == 'eks' else 'global'

def list_added_kinds(found, unkeyed, regions):
    for r in regions:
        kms = client('kms', r)
        key_stack = {}
        aliases = kms.list_aliases()['Aliases']
        # moto makes the key Secrets Manager uses (a managed RDS password) as a customer key;
        # in AWS it is the AWS managed key alias/aws/secretsmanager points at.
        aws_managed = {a.get('TargetKeyId') for a in aliases if a['AliasName'].startswith('alias/aws/')}
        for k in kms.list_keys()['Keys']:
            meta = kms.describe_key(KeyId=k['KeyId'])['KeyMetadata']
            if meta.get('KeyManager') != 'CUSTOMER' or k['KeyId'] in aws_managed:
                continue
            if meta['KeyState'] == 'PendingDeletion':
                continue
            tags = _tags(kms.list_resource_tags(KeyId=k['KeyId'])['Tags'])
            key_stack[k['KeyId']] = tags.get('regionctl:stack')
            found('kms_key', r, tags, k['KeyId'])
        for a in aliases:
            if not a['AliasName'].startswith('alias/aws/'):
                owner = key_stack.get(a.get('TargetKeyId'))
                unkeyed('kms_alias', r, a['AliasName'], a['AliasName'], owner)
        logs = client('logs', r)
        for g in logs.describe_log_groups()['logGroups']:
            tags = logs.list_tags_log_group(logGroupName=g['logGroupName'])['tags']
            found('cloudwatch_log_group', r, _tags(tags), g['logGroupName'])
        for t in client('ec2', r).describe_launch_templates()['LaunchTemplates']:
            found('launch_template', r, _tags(t.get('Tags')), t['LaunchTemplateId'])
        eks = client('eks', r)
        for c in eks.list_clusters()['clusters']:
            for a in eks.list_addons(clusterName=c)['addons']:
                addon = eks.describe_addon(clusterName=c, addonName=a)['addon']
                found('eks_addon', r, _tags(addon.get('tags')), c + '/' + a)
            # EKS refuses to list the entries of a CONFIG_MAP cluster: it has none.
            mode = eks.describe_cluster(name=c)['cluster'].get('accessConfig', {}).get('authenticationMode', 'CONFIG_MAP')
            if mode == 'CONFIG_MAP':
                continue
            for principal in eks.list_access_entries(clusterName=c)['accessEntries']:
                entry = eks.describe_access_entry(clusterName=c, principalArn=principal)['accessEntry']
                found('eks_access_entry', r, _tags(entry.get('tags')), c + ':' + principal)
        ecr = client('ecr', r)
        for x in ecr.describe_repositories()['repositories']:
            tags = ecr.list_tags_for_resource(resourceArn=x['repositoryArn'])['tags']
            found('ecr_repository', r, _tags(tags), x['repositoryName'])
        registry = ecr.describe_registry()
        if registry.get('replicationConfiguration', {}).get('rules'):
            unkeyed('ecr_replication_configuration', r, r, registry['registryId'], None)
        sns = client('sns', r)
        for t in sns.list_topics()['Topics']:
            tags = _tags(sns.list_tags_for_resource(ResourceArn=t['TopicArn'])['Tags'])
            found('sns_topic', r, tags, t['TopicArn'])
            for s in sns.list_subscriptions_by_topic(TopicArn=t['TopicArn'])['Subscriptions']:
                sid = t['TopicArn'] if s['SubscriptionArn'] == 'PendingConfirmation' else s['SubscriptionArn']
                unkeyed('sns_subscription', r, s['Protocol'] + ' ' + s['Endpoint'], sid, tags.get('regionctl:stack'))
        cw = client('cloudwatch', r)
        for a in cw.describe_alarms()['MetricAlarms']:
            tags = cw.list_tags_for_resource(ResourceARN=a['AlarmArn'])['Tags']
            found('cloudwatch_metric_alarm', r, _tags(tags), a['AlarmName'])
    iam = client('iam', 'us-east-1')
    for p in iam.list_open_id_connect_providers()['OpenIDConnectProviderList']:
        region = _oidc_region(p['Arn'])
        if region in regions:
            tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=p['Arn'])['Tags']
            found('iam_oidc_provider', region, _tags(tags), p['Arn'])
    # Customer managed policies are account-wide: listed under 'global' wherever declared.
    for p in iam.list_policies(Scope='Local')['Policies']:
        tags = iam.list_policy_tags(PolicyArn=p['Arn'])['Tags']
        found('iam_policy', 'global', _tags(tags), p['Arn'])
"#;

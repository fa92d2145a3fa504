//! `aws_iam_role`: an IAM role. The name and path replace it; the trust
//! policy (`assume_role_policy`, compared as a policy, not as text), the
//! description, the session length, the permissions boundary and tags change
//! in place. `id` is the name. Destroy removes the role from its instance
//! profiles and, with `force_detach_policies`, detaches its managed policies
//! and deletes its inline ones first, as Terraform does; without it, IAM's
//! `DeleteConflict` is the answer while any are left.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::Role;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{n, obj, opt_bool, opt_i32, opt_str, or_default, req_str, s, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::iam::{
    check_name, check_policy, date, iam_tags, imported_tags, name_of, plan_policy, read_policy,
    tag_map, text,
};
use crate::{tags, wait};

pub struct IamRole {
    shared: Arc<Shared>,
    schema: Schema,
}

impl IamRole {
    pub fn new(shared: Arc<Shared>) -> IamRole {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::optional_computed().force_new())
            .attr("name_prefix", Attribute::optional().force_new())
            .attr(
                "path",
                Attribute::optional_computed()
                    .force_new()
                    .describe("default /"),
            )
            .attr("assume_role_policy", Attribute::required())
            .attr("description", Attribute::optional())
            .attr(
                "max_session_duration",
                Attribute::optional_computed().describe("seconds, 3600 to 43200; default 3600"),
            )
            .attr("permissions_boundary", Attribute::optional())
            .attr(
                "force_detach_policies",
                Attribute::optional()
                    .describe("detach managed and delete inline policies before destroy"),
            )
            .attr("arn", Attribute::computed())
            .attr("unique_id", Attribute::computed())
            .attr("create_date", Attribute::computed());
        IamRole {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn get(&self, iam: &Client, name: &str) -> AwsResult<Option<Role>> {
        match iam.get_role().role_name(name).send().await {
            Ok(out) => Ok(out.role().cloned()),
            Err(e) => {
                let e = AwsError::sdk("GetRole", e);
                if e.is_not_found() { Ok(None) } else { Err(e) }
            }
        }
    }

    /// The role as a value over `base`; `None` when it is gone.
    async fn observe(&self, base: &Value, name: &str) -> AwsResult<Option<Value>> {
        let iam = self.shared.iam().await;
        let Some(role) = self.get(&iam, name).await? else {
            return Ok(None);
        };
        let tags = match iam.list_role_tags().role_name(name).send().await {
            Ok(out) => tag_map(out.tags()),
            Err(e) => {
                let e = AwsError::sdk("ListRoleTags", e);
                if e.is_not_found() {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        Ok(Some(Self::value(base, &role, tags)))
    }

    fn value(base: &Value, r: &Role, tags: std::collections::BTreeMap<String, String>) -> Value {
        let name = r.role_name();
        with_all(
            base,
            [
                ("id", s(name)),
                ("name", s(name)),
                ("path", s(r.path())),
                (
                    "assume_role_policy",
                    read_policy(
                        Some(base),
                        "assume_role_policy",
                        r.assume_role_policy_document().unwrap_or("{}"),
                    ),
                ),
                ("description", text(r.description())),
                (
                    "max_session_duration",
                    n(r.max_session_duration().unwrap_or(3600)),
                ),
                (
                    "permissions_boundary",
                    text(
                        r.permissions_boundary()
                            .and_then(|b| b.permissions_boundary_arn()),
                    ),
                ),
                (
                    "force_detach_policies",
                    Value::Bool(opt_bool(base, "force_detach_policies").unwrap_or(false)),
                ),
                ("arn", s(r.arn())),
                ("unique_id", s(r.role_id())),
                ("create_date", date(Some(r.create_date()))),
                ("tags_all", crate::attrs::string_map(tags)),
            ],
        )
    }

    /// Removes what holds the role: instance profiles always, and policies
    /// when `force_detach_policies` is set.
    async fn release(&self, iam: &Client, name: &str, force: bool) -> AwsResult<()> {
        let mut marker = None;
        loop {
            let out = iam
                .list_instance_profiles_for_role()
                .role_name(name)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(sdk("ListInstanceProfilesForRole"))?;
            for p in out.instance_profiles() {
                let r = iam
                    .remove_role_from_instance_profile()
                    .instance_profile_name(p.instance_profile_name())
                    .role_name(name)
                    .send()
                    .await
                    .map_err(sdk("RemoveRoleFromInstanceProfile"));
                if let Err(e) = r
                    && !e.is_not_found()
                {
                    return Err(e);
                }
            }
            match out.marker() {
                Some(m) if out.is_truncated() => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        if !force {
            return Ok(());
        }
        for arn in attached_policies(iam, name).await? {
            let r = iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(&arn)
                .send()
                .await
                .map_err(sdk("DetachRolePolicy"));
            if let Err(e) = r
                && !e.is_not_found()
            {
                return Err(e);
            }
        }
        for policy in inline_policies(iam, name).await? {
            let r = iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await
                .map_err(sdk("DeleteRolePolicy"));
            if let Err(e) = r
                && !e.is_not_found()
            {
                return Err(e);
            }
        }
        Ok(())
    }
}

/// The ARNs of the managed policies attached to a role.
pub(crate) async fn attached_policies(iam: &Client, role: &str) -> AwsResult<Vec<String>> {
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(sdk("ListAttachedRolePolicies"))?;
        out.extend(
            page.attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_owned)),
        );
        match page.marker() {
            Some(m) if page.is_truncated() => marker = Some(m.to_owned()),
            _ => return Ok(out),
        }
    }
}

/// The names of a role's inline policies.
pub(crate) async fn inline_policies(iam: &Client, role: &str) -> AwsResult<Vec<String>> {
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_role_policies()
            .role_name(role)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(sdk("ListRolePolicies"))?;
        out.extend(page.policy_names().iter().cloned());
        match page.marker() {
            Some(m) if page.is_truncated() => marker = Some(m.to_owned()),
            _ => return Ok(out),
        }
    }
}

#[async_trait]
impl ResourceType for IamRole {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = check_name(config).into_iter().collect();
        out.extend(check_policy(config, "assume_role_policy"));
        match opt_i32(config, "max_session_duration") {
            Ok(Some(d)) if !(3600..=43200).contains(&d) => out.push((
                "max_session_duration".into(),
                format!("must be between 3600 and 43200 seconds, got {d}"),
            )),
            Err(e) => out.push(("max_session_duration".into(), e.to_string())),
            _ => {}
        }
        if let Some(p) = opt_str(config, "path")
            && !(p.starts_with('/') && p.ends_with('/'))
        {
            out.push((
                "path".into(),
                format!("must begin and end with /, got {p:?}"),
            ));
        }
        out
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "path", s("/"));
        let proposed = or_default(proposed, "max_session_duration", n(3600));
        let proposed = or_default(proposed, "force_detach_policies", Value::Bool(false));
        let proposed = plan_policy(prior, proposed, "assume_role_policy");
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let name = match opt_str(prior, "name") {
            Some(n) => n,
            None => req_str(prior, "id")?,
        };
        Ok(self.observe(prior, name).await?)
    }

    /// Role names are unique in an account: a configured name finds the role
    /// a lost create made. A generated name cannot be told from others with
    /// the same prefix, unless there are none.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        if let Some(name) = opt_str(planned, "name") {
            return Ok(self.observe(planned, name).await?);
        }
        let prefix = opt_str(planned, "name_prefix").unwrap_or("terraform-");
        let iam = self.shared.iam().await;
        let mut marker = None;
        loop {
            let page = iam
                .list_roles()
                .set_path_prefix(opt_str(planned, "path").map(str::to_owned))
                .set_marker(marker.take())
                .send()
                .await
                .map_err(sdk("ListRoles"))?;
            if page
                .roles()
                .iter()
                .any(|r| r.role_name().starts_with(prefix))
            {
                return Err(ProviderError::new(format!(
                    "roles named {prefix}... exist and the generated name was not recorded: check which one the cut-off create made, then `dumcel import` it by name or `dumcel state rm` the address"
                )));
            }
            match page.marker() {
                Some(m) if page.is_truncated() => marker = Some(m.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = name_of(planned);
        let iam = self.shared.iam().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        iam.create_role()
            .role_name(&name)
            .path(opt_str(planned, "path").unwrap_or("/"))
            .assume_role_policy_document(req_str(planned, "assume_role_policy")?)
            .set_description(opt_str(planned, "description").map(str::to_owned))
            .set_max_session_duration(opt_i32(planned, "max_session_duration")?)
            .set_permissions_boundary(opt_str(planned, "permissions_boundary").map(str::to_owned))
            .set_tags((!all.is_empty()).then(|| iam_tags(all)).transpose()?)
            .send()
            .await
            .map_err(sdk("CreateRole"))?;
        let made = with_all(planned, [("id", s(&name)), ("name", s(&name))]);
        // IAM is eventually consistent: a role just made may not read yet.
        let (base, key) = (&made, name.as_str());
        let read = wait::until(
            &format!("IAM role {name} to be readable"),
            wait::limit(60),
            Duration::from_millis(500),
            move || async move { self.observe(base, key).await },
        )
        .await;
        read.map_err(|e| ProviderError {
            message: e.to_string(),
            partial: Some(made.clone()),
        })
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(prior, "name")?;
        let iam = self.shared.iam().await;
        let policy = req_str(planned, "assume_role_policy")?;
        if opt_str(prior, "assume_role_policy") != Some(policy) {
            iam.update_assume_role_policy()
                .role_name(name)
                .policy_document(policy)
                .send()
                .await
                .map_err(sdk("UpdateAssumeRolePolicy"))?;
        }
        let desc = opt_str(planned, "description");
        let duration = opt_i32(planned, "max_session_duration")?;
        if desc != opt_str(prior, "description")
            || duration != opt_i32(prior, "max_session_duration")?
        {
            iam.update_role()
                .role_name(name)
                .description(desc.unwrap_or(""))
                .set_max_session_duration(duration)
                .send()
                .await
                .map_err(sdk("UpdateRole"))?;
        }
        let boundary = opt_str(planned, "permissions_boundary");
        if boundary != opt_str(prior, "permissions_boundary") {
            match boundary {
                Some(arn) => iam
                    .put_role_permissions_boundary()
                    .role_name(name)
                    .permissions_boundary(arn)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(sdk("PutRolePermissionsBoundary"))?,
                None => iam
                    .delete_role_permissions_boundary()
                    .role_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(sdk("DeleteRolePermissionsBoundary"))?,
            }
        }
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        if !set.is_empty() {
            iam.tag_role()
                .role_name(name)
                .set_tags(Some(iam_tags(set)?))
                .send()
                .await
                .map_err(sdk("TagRole"))?;
        }
        if !removed.is_empty() {
            iam.untag_role()
                .role_name(name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(sdk("UntagRole"))?;
        }
        self.observe(planned, name).await?.ok_or_else(|| {
            ProviderError::new(format!("IAM role {name} vanished while it was updated"))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let name = req_str(prior, "name")?;
        let iam = self.shared.iam().await;
        let force = opt_bool(prior, "force_detach_policies").unwrap_or(false);
        match self.release(&iam, name, force).await {
            Err(e) if e.is_not_found() => return Ok(()),
            r => r?,
        }
        match iam.delete_role().role_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::sdk("DeleteRole", e);
                if e.is_not_found() {
                    Ok(())
                } else {
                    Err(e.into())
                }
            }
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let iam = self.shared.iam().await;
        if self.get(&iam, id).await?.is_none() {
            return Err(ProviderError::new(format!(
                "NoSuchEntity: no IAM role named {id:?} to import"
            )));
        }
        let tags = iam
            .list_role_tags()
            .role_name(id)
            .send()
            .await
            .map_err(sdk("ListRoleTags"))?;
        Ok(obj([
            ("id", s(id)),
            ("name", s(id)),
            ("name_prefix", Value::Null),
            ("force_detach_policies", Value::Bool(false)),
            (
                "tags",
                imported_tags(&self.shared.default_tags(), tags.tags()),
            ),
        ]))
    }
}

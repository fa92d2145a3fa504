//! The `backend "s3" { ... }` block's settings.

/// Where the state lives and how it is locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// The default workspace's object key.
    pub key: String,
    pub region: Option<String>,
    /// Without a table there is no remote lock (as in Terraform).
    pub dynamodb_table: Option<String>,
    /// Server-side encryption (SSE-S3) of the state object.
    pub encrypt: bool,
    /// Other workspaces keep `PREFIX/WORKSPACE/KEY`.
    pub workspace_key_prefix: String,
}

impl S3Settings {
    /// The object key of a workspace's state.
    pub fn key_for(&self, workspace: &str) -> String {
        if workspace == "default" {
            self.key.clone()
        } else {
            format!("{}/{workspace}/{}", self.workspace_key_prefix, self.key)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_get_their_own_keys() {
        let s = S3Settings {
            bucket: "b".into(),
            key: "app/dumcel.tfstate".into(),
            region: None,
            dynamodb_table: None,
            encrypt: false,
            workspace_key_prefix: "env:".into(),
        };
        assert_eq!(s.key_for("default"), "app/dumcel.tfstate");
        assert_eq!(s.key_for("staging"), "env:/staging/app/dumcel.tfstate");
    }
}

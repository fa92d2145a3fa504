//! What a resource type accepts and computes, attribute by attribute. The diff
//! reads it to decide between update in place and replace, and what to hide.

use indexmap::IndexMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    pub attributes: IndexMap<String, Attribute>,
    /// Nested blocks (`health_check { ... }`); their values are lists of objects.
    pub blocks: IndexMap<String, NestedBlock>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attribute {
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// The provider sets it (when the configuration does not).
    pub computed: bool,
    /// A change replaces the resource instead of updating it in place.
    pub force_new: bool,
    pub sensitive: bool,
    pub description: &'static str,
}

impl Attribute {
    pub fn required() -> Attribute {
        Attribute {
            required: true,
            ..Attribute::default()
        }
    }

    pub fn optional() -> Attribute {
        Attribute {
            optional: true,
            ..Attribute::default()
        }
    }

    pub fn computed() -> Attribute {
        Attribute {
            computed: true,
            ..Attribute::default()
        }
    }

    /// Optional in configuration, computed by the provider when left out.
    pub fn optional_computed() -> Attribute {
        Attribute {
            optional: true,
            computed: true,
            ..Attribute::default()
        }
    }

    pub fn force_new(mut self) -> Attribute {
        self.force_new = true;
        self
    }

    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }

    pub fn describe(mut self, text: &'static str) -> Attribute {
        self.description = text;
        self
    }

    /// Whether configuration may set it at all.
    pub fn settable(&self) -> bool {
        self.required || self.optional
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NestedBlock {
    pub schema: Schema,
    pub min_items: usize,
    /// `Some(1)` for a single block such as `health_check`.
    pub max_items: Option<usize>,
    pub force_new: bool,
}

impl Schema {
    pub fn new() -> Schema {
        Schema::default()
    }

    pub fn attr(mut self, name: &str, attribute: Attribute) -> Schema {
        self.attributes.insert(name.to_owned(), attribute);
        self
    }

    pub fn block(mut self, name: &str, block: NestedBlock) -> Schema {
        self.blocks.insert(name.to_owned(), block);
        self
    }

    /// Whether a top-level attribute or block forces replacement.
    pub fn forces_new(&self, name: &str) -> bool {
        self.attributes.get(name).is_some_and(|a| a.force_new)
            || self.blocks.get(name).is_some_and(|b| b.force_new)
    }

    pub fn is_sensitive(&self, name: &str) -> bool {
        self.attributes.get(name).is_some_and(|a| a.sensitive)
    }
}

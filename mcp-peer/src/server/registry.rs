//! What a server offers: tools, resources, templates and prompts, with their handlers.
//!
//! A [`Registry`] is an immutable snapshot. Changing it at run time builds a new snapshot and
//! bumps a generation counter; each session re-reads the snapshot only when the counter moved,
//! so the per-request cost is one atomic load.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use mcp_core::ErrorObject;
use mcp_core::schema::{GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplate};

use super::context::RequestContext;
use super::tool::ToolEntry;
use super::uri_template::UriTemplate;

pub(crate) type RpcFuture<T> = BoxFuture<'static, Result<T, ErrorObject>>;

type ReadFn = dyn Fn(RequestContext, String, HashMap<String, String>) -> RpcFuture<ReadResourceResult> + Send + Sync;
type PromptFn = dyn Fn(RequestContext, BTreeMap<String, String>) -> RpcFuture<GetPromptResult> + Send + Sync;

/// A named thing in a registry.
pub(crate) trait Named {
    fn key(&self) -> &str;
}

/// Items in registration order, with an index by key. Re-registering a key replaces the item
/// in place.
pub(crate) struct Catalog<T> {
    items: Vec<Arc<T>>,
    index: foldhash::HashMap<String, usize>,
}

impl<T> Clone for Catalog<T> {
    fn clone(&self) -> Self {
        Self { items: self.items.clone(), index: self.index.clone() }
    }
}

impl<T> Default for Catalog<T> {
    fn default() -> Self {
        Self { items: Vec::new(), index: foldhash::HashMap::default() }
    }
}

impl<T: Named> Catalog<T> {
    pub(crate) fn insert(&mut self, item: Arc<T>) {
        match self.index.get(item.key()) {
            Some(&i) => self.items[i] = item,
            None => {
                self.index.insert(item.key().to_owned(), self.items.len());
                self.items.push(item);
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> bool {
        let Some(i) = self.index.remove(key) else { return false };
        self.items.remove(i);
        for (pos, item) in self.items.iter().enumerate().skip(i) {
            self.index.insert(item.key().to_owned(), pos);
        }
        true
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Arc<T>> {
        self.index.get(key).map(|&i| &self.items[i])
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<T>> {
        self.items.iter()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// One page of a list and the cursor of the next, from a filtered sequence.
///
/// Cursors are the position in registration order, as a decimal string: opaque to clients,
/// and stable while the registry does not change.
///
/// # Errors
/// -32602 when the cursor is not one this server issued.
pub(crate) fn page<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    cursor: Option<&str>,
    page_size: usize,
) -> Result<(Vec<&'a T>, Option<String>), ErrorObject> {
    let start = match cursor {
        None => 0,
        Some(c) => c.parse::<usize>().map_err(|_| ErrorObject::invalid_params(format!("unknown cursor {c:?}")))?,
    };
    let mut items = items.skip(start);
    let page: Vec<&T> = items.by_ref().take(page_size).collect();
    let next = items.next().is_some().then(|| (start + page.len()).to_string());
    Ok((page, next))
}

// ===== entries =====

impl Named for ToolEntry {
    fn key(&self) -> &str {
        &self.tool.name
    }
}

/// A static resource and how to read it.
pub(crate) struct ResourceEntry {
    pub(crate) resource: Resource,
    pub(crate) read: Box<ReadFn>,
}

impl Named for ResourceEntry {
    fn key(&self) -> &str {
        &self.resource.uri
    }
}

/// A resource template and how to read the resources it describes.
pub(crate) struct TemplateEntry {
    pub(crate) template: ResourceTemplate,
    pub(crate) matcher: UriTemplate,
    pub(crate) read: Box<ReadFn>,
}

impl Named for TemplateEntry {
    fn key(&self) -> &str {
        &self.template.uri_template
    }
}

/// A prompt and how to render it.
pub(crate) struct PromptEntry {
    pub(crate) prompt: Prompt,
    pub(crate) get: Box<PromptFn>,
}

impl Named for PromptEntry {
    fn key(&self) -> &str {
        &self.prompt.name
    }
}

impl ResourceEntry {
    pub(crate) fn new<F, Fut>(resource: Resource, read: F) -> Arc<Self>
    where
        F: Fn(RequestContext, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, ErrorObject>> + Send + 'static,
    {
        Arc::new(Self { resource, read: Box::new(move |ctx, uri, _| read(ctx, uri).boxed()) })
    }
}

impl TemplateEntry {
    pub(crate) fn new<F, Fut>(template: ResourceTemplate, read: F) -> Arc<Self>
    where
        F: Fn(RequestContext, String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, ErrorObject>> + Send + 'static,
    {
        let matcher = UriTemplate::parse(&template.uri_template);
        Arc::new(Self { template, matcher, read: Box::new(move |ctx, uri, vars| read(ctx, uri, vars).boxed()) })
    }
}

impl PromptEntry {
    pub(crate) fn new<F, Fut>(prompt: Prompt, get: F) -> Arc<Self>
    where
        F: Fn(RequestContext, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, ErrorObject>> + Send + 'static,
    {
        Arc::new(Self { prompt, get: Box::new(move |ctx, args| get(ctx, args).boxed()) })
    }
}

// ===== Registry =====

/// A snapshot of everything a server offers.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    pub(crate) tools: Catalog<ToolEntry>,
    pub(crate) resources: Catalog<ResourceEntry>,
    pub(crate) templates: Catalog<TemplateEntry>,
    pub(crate) prompts: Catalog<PromptEntry>,
}

impl Registry {
    /// The resource at `uri`: a static one, else the first template that matches.
    pub(crate) fn find_resource(&self, uri: &str) -> Option<(&ReadFn, HashMap<String, String>)> {
        if let Some(entry) = self.resources.get(uri) {
            return Some((&*entry.read, HashMap::new()));
        }
        self.templates.iter().find_map(|t| t.matcher.matches(uri).map(|vars| (&*t.read, vars)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_cursors() {
        let items: Vec<u32> = (0..5).collect();
        let (p, next) = page(items.iter(), None, 2).unwrap();
        assert_eq!((p, next.as_deref()), (vec![&0, &1], Some("2")));
        let (p, next) = page(items.iter(), Some("4"), 2).unwrap();
        assert_eq!((p, next), (vec![&4], None));
        let (p, next) = page(items.iter(), Some("2"), 3).unwrap();
        assert_eq!((p, next), (vec![&2, &3, &4], None));
        assert!(page(items.iter(), Some("x"), 2).is_err());
    }
}

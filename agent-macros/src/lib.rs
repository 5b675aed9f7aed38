//! asyncmon-agent's macros: `#[asyncmon_agent::main]` (the entry point, in `entry`) and
//! `#[derive(Exception)]` for an error enum: what a firmware would otherwise write by hand for each
//! error type — `Exception` (`is_cancellation`, `raised_at`), `From<Cancelled>`, `From<T>` for
//! wrapped errors, and `#[track_caller]` constructors that record where the error was raised.
//!
//! ```ignore
//! #[derive(Debug, asyncmon_agent::Exception)]
//! enum AppError {
//!     #[cancelled]
//!     Cancelled,                                            // From<Cancelled>; is_cancellation()
//!     Sensor { at: &'static core::panic::Location<'static> }, // AppError::sensor() records its caller
//!     Spawn(#[from] asyncmon_agent::SpawnError),            // From<SpawnError>, for `?`
//! }
//! ```
//!
//! `Display` stays yours: it is the message the host shows.

mod entry;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::{parse_macro_input, Data, DeriveInput, Error, Fields, Ident};

/// The firmware's entry point around an `async fn main(spawner: Spawner) -> Result<T, E>`, as
/// embassy's `#[embassy_executor::main]` is:
///
/// ```ignore
/// #[asyncmon_agent::main(tasks = 8, slot_bytes = 256)]
/// async fn main(spawner: Spawner) -> Result<(), AppError> { /* ... */ }
/// ```
///
/// It declares the executor (`tasks` slots of `slot_bytes` bytes), calls `init` if given (a
/// board's setup), says hello on the link (`name`, by default the package's), runs main, says how
/// it ended (`end_of_run`: main's failure or the host's stop on the text channel, the last frames
/// drained) and calls `then` with the exit code — by default `asyncmon_agent::halt` (sleeps for
/// good on a core; exits with the code on std). The entry attribute is cortex-m-rt's or
/// riscv-rt's, after the agent's platform feature: the firmware depends on that crate.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(args.into(), item.into()).unwrap_or_else(Error::into_compile_error).into()
}

/// Derives `asyncmon_agent::Exception` for an enum; see the crate docs.
#[proc_macro_derive(Exception, attributes(cancelled, from))]
pub fn derive_exception(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(Error::into_compile_error).into()
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(Error::new_spanned(name, "#[derive(Exception)] is for an enum of the task's errors"));
    };
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let agent = quote!(::asyncmon_agent);
    let mut cancelled = None;
    let (mut raised_arms, mut froms, mut constructors) = (Vec::new(), Vec::new(), Vec::new());
    for variant in &data.variants {
        let v = &variant.ident;
        if variant.attrs.iter().any(|a| a.path().is_ident("cancelled")) {
            if !matches!(variant.fields, Fields::Unit) || cancelled.is_some() {
                return Err(Error::new_spanned(v, "#[cancelled] goes on one variant without fields"));
            }
            cancelled = Some(v.clone());
            continue;
        }
        match &variant.fields {
            Fields::Named(fields) => {
                let named: Vec<&Ident> = fields.named.iter().filter_map(|f| f.ident.as_ref()).collect();
                if named.iter().any(|f| *f == "at") {
                    raised_arms.push(quote!(Self::#v { at, .. } => ::core::option::Option::Some(at),));
                    let others: Vec<_> =
                        fields.named.iter().filter(|f| f.ident.as_ref().is_some_and(|i| i != "at")).collect();
                    let params = others.iter().map(|f| {
                        let (ident, ty) = (&f.ident, &f.ty);
                        quote!(#ident: #ty)
                    });
                    let values = others.iter().map(|f| &f.ident);
                    let constructor = format_ident!("{}", snake_case(&v.to_string()), span = v.span());
                    let doc = format!("`{name}::{v}`, raised here: the caller's location is recorded.");
                    constructors.push(quote! {
                        #[doc = #doc]
                        #[track_caller]
                        pub fn #constructor(#(#params),*) -> Self {
                            Self::#v { at: ::core::panic::Location::caller(), #(#values),* }
                        }
                    });
                }
            }
            Fields::Unnamed(fields) => {
                let from =
                    fields.unnamed.iter().position(|f| f.attrs.iter().any(|a| a.path().is_ident("from")));
                if let Some(index) = from {
                    if fields.unnamed.len() != 1 {
                        return Err(Error::new_spanned(v, "#[from] goes on the only field of a variant"));
                    }
                    let ty = &fields.unnamed[index].ty;
                    froms.push(quote! {
                        impl #impl_generics ::core::convert::From<#ty> for #name #type_generics #where_clause {
                            fn from(error: #ty) -> Self {
                                Self::#v(error)
                            }
                        }
                    });
                }
            }
            Fields::Unit => {}
        }
    }
    let Some(cancelled) = cancelled else {
        return Err(Error::new(
            Span::call_site(),
            "mark the variant a cancellation makes with #[cancelled]: a task error needs one (asyncio's CancelledError)",
        ));
    };
    Ok(quote! {
        impl #impl_generics #agent::Exception for #name #type_generics #where_clause {
            fn is_cancellation(&self) -> bool {
                ::core::matches!(self, Self::#cancelled)
            }
            fn raised_at(&self) -> ::core::option::Option<&'static ::core::panic::Location<'static>> {
                match self {
                    #(#raised_arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
        impl #impl_generics ::core::convert::From<#agent::Cancelled> for #name #type_generics #where_clause {
            fn from(_: #agent::Cancelled) -> Self {
                Self::#cancelled
            }
        }
        #(#froms)*
        impl #impl_generics #name #type_generics #where_clause {
            #(#constructors)*
        }
    })
}

/// `SensorTimeout` → `sensor_timeout`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

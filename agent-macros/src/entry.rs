//! `#[asyncmon_agent::main]`: the entry point every firmware would otherwise write — a static
//! executor, the link's hello, the run, how it ended on the text channel, the last frames drained,
//! then what the firmware does after main (halt, reset, a board's exit).

use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Error, Expr, ItemFn, Lit, LitInt, LitStr, MetaNameValue, Path, Token};

/// The attribute's arguments: `tasks = 8, slot_bytes = 256` (required), `name = "..."`,
/// `init = path`, `then = path`.
struct Args {
    tasks: LitInt,
    slot_bytes: LitInt,
    name: Option<LitStr>,
    init: Option<Path>,
    then: Option<Path>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let pairs = Punctuated::<MetaNameValue, Token![,]>::parse_terminated(input)?;
        let (mut tasks, mut slot_bytes, mut name, mut init, mut then) = (None, None, None, None, None);
        for pair in pairs {
            let key = pair.path.get_ident().map(ToString::to_string).unwrap_or_default();
            let value = &pair.value;
            let int = || match value {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Int(int) => Ok(int.clone()),
                    _ => Err(Error::new_spanned(value, "a number")),
                },
                _ => Err(Error::new_spanned(value, "a number")),
            };
            let path = || match value {
                Expr::Path(path) => Ok(path.path.clone()),
                _ => Err(Error::new_spanned(value, "a function's path")),
            };
            match key.as_str() {
                "tasks" => tasks = Some(int()?),
                "slot_bytes" => slot_bytes = Some(int()?),
                "name" => match value {
                    Expr::Lit(lit) => match &lit.lit {
                        Lit::Str(s) => name = Some(s.clone()),
                        _ => return Err(Error::new_spanned(value, "the firmware's name, a string")),
                    },
                    _ => return Err(Error::new_spanned(value, "the firmware's name, a string")),
                },
                "init" => init = Some(path()?),
                "then" => then = Some(path()?),
                _ => {
                    return Err(Error::new_spanned(
                        &pair.path,
                        "expected tasks = N, slot_bytes = N, name = \"..\", init = path or then = path",
                    ))
                }
            }
        }
        let missing = |what: &str| Error::new(input.span(), format!("#[asyncmon_agent::main] needs {what}"));
        Ok(Args {
            tasks: tasks.ok_or_else(|| missing("tasks = N (how many task slots)"))?,
            slot_bytes: slot_bytes.ok_or_else(|| missing("slot_bytes = N (bytes per task slot)"))?,
            name,
            init,
            then,
        })
    }
}

/// The platform's entry attribute, from the agent's features (forwarded to this crate).
fn entry_attribute() -> Tokens {
    if cfg!(feature = "std") {
        quote!()
    } else if cfg!(feature = "cortex-m") {
        quote!(#[::cortex_m_rt::entry])
    } else if cfg!(feature = "riscv") {
        quote!(#[::riscv_rt::entry])
    } else {
        quote!(::core::compile_error!(
            "#[asyncmon_agent::main] needs a platform: the agent's `cortex-m`, `riscv` or `std` feature"
        );)
    }
}

pub(crate) fn expand(args: Tokens, item: Tokens) -> syn::Result<Tokens> {
    let args: Args = syn::parse2(args)?;
    let mut main: ItemFn = syn::parse2(item)?;
    if main.sig.asyncness.is_none() {
        return Err(Error::new_spanned(main.sig.fn_token, "#[asyncmon_agent::main] goes on an `async fn`"));
    }
    if main.sig.inputs.len() != 1 {
        return Err(Error::new_spanned(
            &main.sig.inputs,
            "main takes the spawner: `async fn main(spawner: Spawner) -> Result<T, E>`",
        ));
    }
    main.sig.ident = syn::Ident::new("__asyncmon_main", main.sig.ident.span());
    let Args { tasks, slot_bytes, name, init, then } = args;
    let agent = quote!(::asyncmon_agent);
    let name = name.map_or_else(|| quote!(::core::env!("CARGO_PKG_NAME")), |n| quote!(#n));
    let init = init.map(|init| quote!(#init();));
    let then = then.map_or_else(|| quote!(#agent::halt), |then| quote!(#then));
    let entry = entry_attribute();
    Ok(quote! {
        #main

        /// The firmware's entry point, written by `#[asyncmon_agent::main]`.
        #entry
        fn main() -> ! {
            static EXECUTOR: #agent::Executor<#tasks, #slot_bytes> = #agent::Executor::new();
            #init
            #agent::link::init(#name, ::core::env!("CARGO_PKG_VERSION"));
            let code = #agent::end_of_run(EXECUTOR.run(__asyncmon_main));
            #then(code)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::expand;
    use quote::quote;

    fn error_of(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
        expand(args, item).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_main_without_its_sizes_or_not_async_is_told_what_to_write() {
        let main = quote!(
            async fn main(s: Spawner) -> Result<(), E> {
                Ok(())
            }
        );
        assert!(error_of(quote!(slot_bytes = 256), main.clone()).contains("needs tasks = N"));
        assert!(error_of(quote!(tasks = 2), main.clone()).contains("needs slot_bytes = N"));
        assert!(error_of(quote!(tasks = 2, slot_bytes = 64, stack = 3), main).contains("expected tasks = N"));
        let not_async = quote!(
            fn main(s: Spawner) -> Result<(), E> {
                Ok(())
            }
        );
        assert!(error_of(quote!(tasks = 2, slot_bytes = 64), not_async).contains("goes on an `async fn`"));
    }

    #[test]
    fn the_entry_point_runs_the_renamed_main_and_passes_its_code_on() {
        let main = quote!(
            async fn main(s: Spawner) -> Result<(), E> {
                Ok(())
            }
        );
        let out = expand(quote!(tasks = 2, slot_bytes = 64, then = board::exit), main).unwrap().to_string();
        assert!(out.contains("async fn __asyncmon_main"), "{out}");
        assert!(out.contains("Executor < 2 , 64 >"), "{out}");
        assert!(out.contains("board :: exit (code)"), "{out}");
    }
}

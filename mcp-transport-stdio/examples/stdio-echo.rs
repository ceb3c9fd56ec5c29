//! A tiny MCP-framed echo server on stdio, for this crate's tests and as the smallest example
//! of [`mcp_transport_stdio::stdio`].
//!
//! Requests (the result is `{"method": ..., "params": ...}` unless said otherwise):
//! - `echo`: answers at once.
//! - `slow` `{"ms": n}`: answers after `n` milliseconds, concurrently with later requests.
//! - `print` `{"text": s}`: `println!`s `s` (which must land on stderr) and answers.
//! - `stderr` `{"lines": [..]}`: writes the lines to stderr and answers.
//! - `child`: runs `sh -c 'echo from-child; cat'` with inherited stdin and stdout and answers
//!   with its exit code: it must neither reach the client nor read the client's messages.
//! - `exit` `{"code": n}`: exits at once with status `n`, answering nothing.
//!
//! A malformed line gets the JSON-RPC error the transport reports. On end of input, the
//! answers still owed are sent, then the process exits with status 0.

use futures::{SinkExt, StreamExt};
use mcp_core::{ErrorObject, Message};
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let transport = mcp_transport_stdio::stdio()?;
    let (mut sink, mut stream) = transport.split();

    // Answers flow through a bounded channel to one writer task, so `slow` requests can
    // answer out of order while the reader goes on.
    let (answers, mut outbox) = mpsc::channel::<Message>(64);
    let writer = tokio::spawn(async move {
        while let Some(msg) = outbox.recv().await {
            if sink.send(msg).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });

    while let Some(item) = stream.next().await {
        let request = match item {
            Ok(Message::Request(request)) => request,
            Ok(_) => continue,
            Err(e) => match e.error_response() {
                Some(answer) => {
                    let _ = answers.send(answer).await;
                    continue;
                }
                None => break,
            },
        };
        let params: Value = request.parse_params().unwrap_or(Value::Null);
        let echo = json!({ "method": request.method, "params": params });
        let answer = match request.method.as_str() {
            "echo" => Message::response(request.id, &echo).unwrap(),
            "slow" => {
                let answers = answers.clone();
                let ms = params["ms"].as_u64().unwrap_or(0);
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                    let _ = answers.send(Message::response(request.id, &echo).unwrap()).await;
                });
                continue;
            }
            "print" => {
                stray_print(params["text"].as_str().unwrap_or_default());
                Message::response(request.id, &echo).unwrap()
            }
            "stderr" => {
                for line in params["lines"].as_array().into_iter().flatten() {
                    eprintln!("{}", line.as_str().unwrap_or_default());
                }
                Message::response(request.id, &echo).unwrap()
            }
            "child" => {
                let status = tokio::process::Command::new("sh").args(["-c", "echo from-child; cat"]).status().await?;
                Message::response(request.id, &json!({ "code": status.code() })).unwrap()
            }
            "exit" => std::process::exit(params["code"].as_i64().unwrap_or(0) as i32),
            other => Message::error(Some(request.id), ErrorObject::method_not_found(other)),
        };
        let _ = answers.send(answer).await;
    }

    // End of input: the writer drains what is owed once every sender is gone.
    drop(answers);
    let _ = writer.await;
    Ok(())
}

/// What a careless library does while a stdio server runs; the transport sends it to stderr.
#[allow(clippy::print_stdout)]
fn stray_print(text: &str) {
    println!("{text}");
}

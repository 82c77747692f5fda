//! A minimal SMTP client (RFC 5321) for a trusted relay: EHLO, MAIL FROM, RCPT TO, DATA, QUIT over plain TCP.
//! No authentication or TLS: point it at a local relay (Postfix, a mail catcher) that forwards onwards.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::{MailError, Mailer};
use crate::model::Mail;

const TIMEOUT: Duration = Duration::from_secs(20);

pub struct SmtpMailer {
    server: String,
    from: String,
}

impl SmtpMailer {
    pub fn new(server: &str, from: &str) -> Self {
        Self {
            server: server.to_owned(),
            from: from.to_owned(),
        }
    }

    fn io(&self, e: std::io::Error) -> MailError {
        MailError::Io {
            server: self.server.clone(),
            message: e.to_string(),
        }
    }
}

/// An address safe to put in a command and a header.
fn check_address(a: &str) -> Result<&str, MailError> {
    if a.is_empty() || a.contains(['\r', '\n', '<', '>']) {
        return Err(MailError::Address(a.to_owned()));
    }
    Ok(a)
}

/// A header value without line breaks.
fn header_value(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// The message body with CRLF line ends and leading dots doubled (RFC 5321 §4.5.2).
fn dot_stuffed(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 16);
    for line in body.lines() {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

struct Conversation<'a> {
    mailer: &'a SmtpMailer,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conversation<'_> {
    /// Reads one (possibly multi-line) reply and checks its code's first digit.
    fn expect(&mut self, command: &'static str, class: u8) -> Result<(), MailError> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .map_err(|e| self.mailer.io(e))?;
            if n == 0 {
                return Err(MailError::Io {
                    server: self.mailer.server.clone(),
                    message: format!("connection closed while waiting for the reply to {command}"),
                });
            }
            text.push_str(line.trim_end());
            text.push(' ');
            // "250-…" continues, "250 …" ends.
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        if text.as_bytes().first() == Some(&class) {
            Ok(())
        } else {
            Err(MailError::Refused {
                server: self.mailer.server.clone(),
                command,
                reply: text.trim_end().to_owned(),
            })
        }
    }

    fn command(&mut self, line: &str, name: &'static str, class: u8) -> Result<(), MailError> {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .map_err(|e| self.mailer.io(e))?;
        self.expect(name, class)
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let from = check_address(&self.from)?;
        let to = check_address(&mail.to)?;
        let connect_err = |message: String| MailError::Connect {
            server: self.server.clone(),
            message,
        };
        let addr = self
            .server
            .to_socket_addrs()
            .map_err(|e| connect_err(e.to_string()))?
            .next()
            .ok_or_else(|| connect_err("no address".to_owned()))?;
        let stream =
            TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| connect_err(e.to_string()))?;
        stream
            .set_read_timeout(Some(TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
            .map_err(|e| self.io(e))?;
        let writer = stream.try_clone().map_err(|e| self.io(e))?;
        let mut c = Conversation {
            mailer: self,
            reader: BufReader::new(stream),
            writer,
        };
        c.expect("the greeting", b'2')?;
        c.command("EHLO sfr-org.local", "EHLO", b'2')?;
        c.command(&format!("MAIL FROM:<{from}>"), "MAIL FROM", b'2')?;
        c.command(&format!("RCPT TO:<{to}>"), "RCPT TO", b'2')?;
        c.command("DATA", "DATA", b'3')?;
        let date = time::OffsetDateTime::from_unix_timestamp(mail.at / 1000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc2822)
                    .ok()
            })
            .unwrap_or_default();
        let message = format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: {}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}.",
            header_value(&mail.subject),
            dot_stuffed(&mail.body),
        );
        c.command(&message, "the message", b'2')?;
        // The message is accepted; a failed QUIT changes nothing.
        let _ = c.command("QUIT", "QUIT", b'2');
        Ok(())
    }

    fn describe(&self) -> String {
        format!("the SMTP server {}", self.server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot SMTP server on loopback that records what it was sent.
    fn fake_server(refuse_rcpt: bool) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut w = stream.try_clone().unwrap();
            let mut r = BufReader::new(stream);
            let mut log = String::new();
            w.write_all(b"220 fake ESMTP\r\n").unwrap();
            let mut in_data = false;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                log.push_str(&line);
                if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        w.write_all(b"250 queued\r\n").unwrap();
                    }
                    continue;
                }
                let reply: &[u8] = if line.starts_with("EHLO") {
                    b"250-fake\r\n250 8BITMIME\r\n"
                } else if line.starts_with("RCPT") && refuse_rcpt {
                    b"550 no such user\r\n"
                } else if line.starts_with("DATA") {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if line.starts_with("QUIT") {
                    w.write_all(b"221 bye\r\n").unwrap();
                    break;
                } else {
                    b"250 ok\r\n"
                };
                w.write_all(reply).unwrap();
            }
            log
        });
        (addr, handle)
    }

    fn mail() -> Mail {
        Mail {
            at: 1_700_000_000_000,
            to: "admin@example.com".into(),
            subject: "Verify\r\nBcc: evil@x".into(),
            body: "Your code is 123456\n.hidden line".into(),
        }
    }

    #[test]
    fn delivers_a_message_to_a_relay() {
        let (addr, server) = fake_server(false);
        SmtpMailer::new(&addr, "noreply@example.com")
            .send(&mail())
            .unwrap();
        let log = server.join().unwrap();
        assert!(log.contains("MAIL FROM:<noreply@example.com>\r\n"), "{log}");
        assert!(log.contains("RCPT TO:<admin@example.com>\r\n"));
        assert!(log.contains("Subject: Verify  Bcc: evil@x\r\n"), "{log}");
        assert!(
            log.contains("Your code is 123456\r\n..hidden line\r\n.\r\n"),
            "{log}"
        );
        assert!(log.ends_with("QUIT\r\n"));
    }

    #[test]
    fn a_refusal_names_the_command_and_reply() {
        let (addr, _server) = fake_server(true);
        let err = SmtpMailer::new(&addr, "noreply@example.com")
            .send(&mail())
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("RCPT TO") && text.contains("550 no such user"),
            "{text}"
        );
    }

    #[test]
    fn bad_addresses_and_dead_servers_are_errors() {
        let mut m = mail();
        m.to = "a@b.c>\r\nRCPT TO:<x@y.z".into();
        assert!(matches!(
            SmtpMailer::new("127.0.0.1:9", "n@x.y").send(&m),
            Err(MailError::Address(_))
        ));
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap().to_string();
        drop(closed);
        assert!(matches!(
            SmtpMailer::new(&addr, "n@x.y").send(&mail()),
            Err(MailError::Connect { .. })
        ));
    }
}

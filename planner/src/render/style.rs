//! Colours, applied only when asked for.

use anstyle::{AnsiColor, Style};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Palette {
    color: bool,
}

fn fg(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(color.into()))
}

impl Palette {
    pub(crate) fn new(color: bool) -> Palette {
        Palette { color }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn green(&self, text: &str) -> String {
        self.paint(fg(AnsiColor::Green), text)
    }

    pub(crate) fn yellow(&self, text: &str) -> String {
        self.paint(fg(AnsiColor::Yellow), text)
    }

    pub(crate) fn red(&self, text: &str) -> String {
        self.paint(fg(AnsiColor::Red), text)
    }

    pub(crate) fn cyan(&self, text: &str) -> String {
        self.paint(fg(AnsiColor::Cyan), text)
    }

    pub(crate) fn cyan_bold(&self, text: &str) -> String {
        self.paint(fg(AnsiColor::Cyan).bold(), text)
    }

    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    pub(crate) fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }
}

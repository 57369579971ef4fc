//! Example texts, one click each: a sample CV and five short job posts
//! written for RoleMapper (no third-party text), covering very different
//! fields so that the highlighter's range shows.

/// Which editor an example belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Cv,
    Job,
}

/// One example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    /// Button label.
    pub label: &'static str,
    pub kind: Kind,
    pub text: &'static str,
}

pub const EXAMPLES: [Example; 6] = [
    Example {
        label: "Sample CV",
        kind: Kind::Cv,
        text: include_str!("../../examples/cv.txt"),
    },
    Example {
        label: "Data science job",
        kind: Kind::Job,
        text: include_str!("../../examples/job-data-science.txt"),
    },
    Example {
        label: "Digital marketing job",
        kind: Kind::Job,
        text: include_str!("../../examples/job-digital-marketing.txt"),
    },
    Example {
        label: "Frontend job",
        kind: Kind::Job,
        text: include_str!("../../examples/job-frontend.txt"),
    },
    Example {
        label: "Legal job",
        kind: Kind::Job,
        text: include_str!("../../examples/job-legal.txt"),
    },
    Example {
        label: "Warehouse job",
        kind: Kind::Job,
        text: include_str!("../../examples/job-warehouse.txt"),
    },
];

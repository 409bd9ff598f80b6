//! Deterministic sample data for the example project: customers, orders, companies, tickets and
//! events that look like real customer data and exercise every rule in `rules/`.
//!
//! Same [`SampleOptions`] → the same records, byte for byte, on every machine and for every chunk
//! size: each customer (with its orders, tickets and events) comes from its own random stream
//! (SplitMix64, integers only), and ids are numbered in customer order. Records come out in
//! chunks of customers, so millions of customers never need to be in memory at once.
//!
//! This module builds Arrow record batches (like `engine` and `explain`, it knows Arrow) and
//! encodes them (`encode`); writing files is the CLI's job (`segl generate`).

mod calendar;
mod columns;
mod encode;
mod model;
mod rng;

use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

pub use columns::{DECIMAL_SCALE, SampleEntity};
pub use encode::{BatchWriter, DataFormat, EncodeError};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleOptions {
    /// How many customers; companies are one per ten customers (at least five).
    pub customers: usize,
    /// The seed: another seed gives other, equally plausible data.
    pub seed: u64,
    /// "Today" for the data: nothing happens after it (except company renewals).
    pub as_of: jiff::civil::Date,
    /// How many customers go into one chunk (their related records come with them).
    pub chunk_size: usize,
}

impl SampleOptions {
    /// 1,000 customers, seed 1, as of the example project's date, chunks of 100,000.
    #[must_use]
    pub fn new(customers: usize, seed: u64, as_of: jiff::civil::Date) -> Self {
        SampleOptions {
            customers,
            seed,
            as_of,
            chunk_size: 100_000,
        }
    }
}

/// The customers of one chunk with their orders, tickets and events.
#[derive(Clone, Debug)]
pub struct Chunk {
    pub customers: RecordBatch,
    pub orders: RecordBatch,
    pub tickets: RecordBatch,
    pub events: RecordBatch,
}

impl Chunk {
    /// The batch of one entity (`None` for companies, which come from [`Sample::companies`]).
    #[must_use]
    pub fn batch(&self, entity: SampleEntity) -> Option<&RecordBatch> {
        match entity {
            SampleEntity::Customer => Some(&self.customers),
            SampleEntity::Order => Some(&self.orders),
            SampleEntity::Ticket => Some(&self.tickets),
            SampleEntity::Event => Some(&self.events),
            SampleEntity::Company => None,
        }
    }
}

/// A generator for one set of options. Companies are made up front (one per ten customers);
/// customers are made chunk by chunk by [`Sample::chunks`].
pub struct Sample {
    options: SampleOptions,
    as_of: i32,
    companies: Vec<model::CompanyRow>,
    cumulative: Vec<u64>,
}

impl Sample {
    #[must_use]
    pub fn new(options: SampleOptions) -> Sample {
        let d = options.as_of;
        let as_of = calendar::days_from_civil(
            i32::from(d.year()),
            u32::try_from(d.month()).unwrap_or(1),
            u32::try_from(d.day()).unwrap_or(1),
        );
        let companies: Vec<model::CompanyRow> = (0..model::company_count(options.customers))
            .map(|i| model::company(options.seed, i, as_of))
            .collect();
        let cumulative = model::company_weights(&companies);
        Sample {
            options,
            as_of,
            companies,
            cumulative,
        }
    }

    #[must_use]
    pub fn options(&self) -> &SampleOptions {
        &self.options
    }

    /// All companies in one batch.
    ///
    /// # Errors
    /// Only if Arrow rejects the batch (a bug).
    pub fn companies(&self) -> Result<RecordBatch, ArrowError> {
        columns::companies(&self.companies)
    }

    /// The customers chunk by chunk, each with its related records.
    #[must_use]
    pub fn chunks(&self) -> Chunks<'_> {
        Chunks {
            sample: self,
            next: 0,
            counters: model::Counters::default(),
        }
    }
}

/// The iterator of [`Sample::chunks`].
pub struct Chunks<'a> {
    sample: &'a Sample,
    next: usize,
    counters: model::Counters,
}

impl Iterator for Chunks<'_> {
    type Item = Result<Chunk, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let total = self.sample.options.customers;
        if self.next >= total {
            return None;
        }
        let end = (self.next + self.sample.options.chunk_size.max(1)).min(total);
        let mut customers = Vec::with_capacity(end - self.next);
        let mut orders = Vec::new();
        let mut tickets = Vec::new();
        let mut events = Vec::new();
        for index in self.next..end {
            let bundle = model::customer(
                self.sample.options.seed,
                index,
                self.sample.as_of,
                &self.sample.companies,
                &self.sample.cumulative,
                &mut self.counters,
            );
            customers.push(bundle.customer);
            orders.extend(bundle.orders);
            tickets.extend(bundle.tickets);
            events.extend(bundle.events);
        }
        self.next = end;
        Some((|| {
            Ok(Chunk {
                customers: columns::customers(&customers)?,
                orders: columns::orders(&orders)?,
                tickets: columns::tickets(&tickets)?,
                events: columns::events(&events)?,
            })
        })())
    }
}

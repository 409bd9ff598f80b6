//! The five entities of the example schema as Arrow schemas, and rows turned into record batches.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, ListBuilder, StringArray,
    StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

use super::model::{CompanyRow, CustomerRow, EventRow, OrderRow, TicketRow};
use crate::engine::types::{UTC, arrow_type};
use crate::ir::Type;

/// The scale of every generated decimal column (money in cents).
pub const DECIMAL_SCALE: i8 = 2;

/// An entity of the example schema (`rules/schema.segl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SampleEntity {
    Customer,
    Order,
    Company,
    Ticket,
    Event,
}

impl SampleEntity {
    pub const ALL: [SampleEntity; 5] = [
        SampleEntity::Customer,
        SampleEntity::Order,
        SampleEntity::Company,
        SampleEntity::Ticket,
        SampleEntity::Event,
    ];

    /// The entity's name in the schema.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SampleEntity::Customer => "customer",
            SampleEntity::Order => "order",
            SampleEntity::Company => "company",
            SampleEntity::Ticket => "ticket",
            SampleEntity::Event => "event",
        }
    }

    /// The file name without extension: `customers`, `orders`, ...
    #[must_use]
    pub fn file_stem(self) -> &'static str {
        match self {
            SampleEntity::Customer => "customers",
            SampleEntity::Order => "orders",
            SampleEntity::Company => "companies",
            SampleEntity::Ticket => "tickets",
            SampleEntity::Event => "events",
        }
    }

    /// `(field, type, optional)` in schema order. Enums are text in Arrow.
    #[must_use]
    pub fn fields(self) -> Vec<(&'static str, Type, bool)> {
        let text_list = || Type::List(Box::new(Type::Text));
        match self {
            SampleEntity::Customer => vec![
                ("id", Type::Text, false),
                ("email", Type::Text, false),
                ("first_name", Type::Text, true),
                ("country", Type::Text, false),
                ("region", Type::Text, false),
                ("city", Type::Text, true),
                ("birthday", Type::Date, true),
                ("plan", Type::Text, false),
                ("arr", Type::Decimal, false),
                ("seats", Type::Integer, false),
                ("signup_date", Type::Date, false),
                ("last_login", Type::Timestamp, true),
                ("nps", Type::Integer, true),
                ("email_opt_in", Type::Bool, false),
                ("interests", text_list(), false),
                ("primary_device", Type::Text, false),
                ("apps", text_list(), false),
                ("features_used", text_list(), false),
                ("job_role", Type::Text, true),
                ("channel", Type::Text, false),
                ("tags", text_list(), false),
                ("company_id", Type::Text, true),
            ],
            SampleEntity::Order => vec![
                ("id", Type::Text, false),
                ("customer_id", Type::Text, false),
                ("placed_on", Type::Date, false),
                ("amount", Type::Decimal, false),
                ("status", Type::Text, false),
                ("channel", Type::Text, false),
                ("category", Type::Text, false),
                ("items", Type::Integer, false),
            ],
            SampleEntity::Company => vec![
                ("id", Type::Text, false),
                ("name", Type::Text, false),
                ("industry", Type::Text, false),
                ("employees", Type::Integer, false),
                ("country", Type::Text, false),
                ("region", Type::Text, false),
                ("arr", Type::Decimal, false),
                ("renewal_date", Type::Date, true),
            ],
            SampleEntity::Ticket => vec![
                ("id", Type::Text, false),
                ("customer_id", Type::Text, false),
                ("opened_at", Type::Timestamp, false),
                ("priority", Type::Text, false),
                ("status", Type::Text, false),
                ("category", Type::Text, false),
                ("csat", Type::Integer, true),
            ],
            SampleEntity::Event => vec![
                ("id", Type::Text, false),
                ("customer_id", Type::Text, false),
                ("occurred_at", Type::Timestamp, false),
                ("kind", Type::Text, false),
                ("feature", Type::Text, true),
            ],
        }
    }

    /// The Arrow schema of the entity's batches (types from [`arrow_type`]).
    #[must_use]
    pub fn arrow_schema(self) -> SchemaRef {
        let fields: Vec<Field> = self
            .fields()
            .into_iter()
            .map(|(name, ty, optional)| Field::new(name, arrow_type(&ty, DECIMAL_SCALE), optional))
            .collect();
        Arc::new(Schema::new(fields))
    }
}

fn text<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(values.map(Some).collect::<StringArray>())
}

fn opt_text<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn int(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(values.collect::<Int64Array>())
}

fn date(values: impl Iterator<Item = Option<i32>>) -> ArrayRef {
    Arc::new(values.collect::<Date32Array>())
}

fn timestamp(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(
        values
            .collect::<TimestampMicrosecondArray>()
            .with_timezone(UTC),
    )
}

fn decimal(values: impl Iterator<Item = i128>) -> Result<ArrayRef, ArrowError> {
    let array = values
        .map(Some)
        .collect::<Decimal128Array>()
        .with_precision_and_scale(38, DECIMAL_SCALE)?;
    Ok(Arc::new(array))
}

fn text_list<'a>(values: impl Iterator<Item = &'a [&'static str]>) -> ArrayRef {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for list in values {
        for item in list {
            builder.values().append_value(item);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

fn batch(entity: SampleEntity, columns: Vec<ArrayRef>) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(entity.arrow_schema(), columns)
}

pub fn customers(rows: &[CustomerRow]) -> Result<RecordBatch, ArrowError> {
    batch(
        SampleEntity::Customer,
        vec![
            text(rows.iter().map(|r| r.id.as_str())),
            text(rows.iter().map(|r| r.email.as_str())),
            opt_text(rows.iter().map(|r| r.first_name)),
            text(rows.iter().map(|r| r.country)),
            text(rows.iter().map(|r| r.region)),
            opt_text(rows.iter().map(|r| r.city)),
            date(rows.iter().map(|r| r.birthday)),
            text(rows.iter().map(|r| r.plan)),
            decimal(rows.iter().map(|r| r.arr_cents))?,
            int(rows.iter().map(|r| Some(r.seats))),
            date(rows.iter().map(|r| Some(r.signup_date))),
            timestamp(rows.iter().map(|r| r.last_login)),
            int(rows.iter().map(|r| r.nps)),
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.email_opt_in))
                    .collect::<BooleanArray>(),
            ),
            text_list(rows.iter().map(|r| r.interests.as_slice())),
            text(rows.iter().map(|r| r.primary_device)),
            text_list(rows.iter().map(|r| r.apps.as_slice())),
            text_list(rows.iter().map(|r| r.features_used.as_slice())),
            opt_text(rows.iter().map(|r| r.job_role)),
            text(rows.iter().map(|r| r.channel)),
            text_list(rows.iter().map(|r| r.tags.as_slice())),
            opt_text(rows.iter().map(|r| r.company_id.as_deref())),
        ],
    )
}

pub fn orders(rows: &[OrderRow]) -> Result<RecordBatch, ArrowError> {
    batch(
        SampleEntity::Order,
        vec![
            text(rows.iter().map(|r| r.id.as_str())),
            text(rows.iter().map(|r| r.customer_id.as_str())),
            date(rows.iter().map(|r| Some(r.placed_on))),
            decimal(rows.iter().map(|r| r.amount_cents))?,
            text(rows.iter().map(|r| r.status)),
            text(rows.iter().map(|r| r.channel)),
            text(rows.iter().map(|r| r.category)),
            int(rows.iter().map(|r| Some(r.items))),
        ],
    )
}

pub fn companies(rows: &[CompanyRow]) -> Result<RecordBatch, ArrowError> {
    batch(
        SampleEntity::Company,
        vec![
            text(rows.iter().map(|r| r.id.as_str())),
            text(rows.iter().map(|r| r.name.as_str())),
            text(rows.iter().map(|r| r.industry)),
            int(rows.iter().map(|r| Some(r.employees))),
            text(rows.iter().map(|r| r.country)),
            text(rows.iter().map(|r| r.region)),
            decimal(rows.iter().map(|r| r.arr_cents))?,
            date(rows.iter().map(|r| r.renewal_date)),
        ],
    )
}

pub fn tickets(rows: &[TicketRow]) -> Result<RecordBatch, ArrowError> {
    batch(
        SampleEntity::Ticket,
        vec![
            text(rows.iter().map(|r| r.id.as_str())),
            text(rows.iter().map(|r| r.customer_id.as_str())),
            timestamp(rows.iter().map(|r| Some(r.opened_at))),
            text(rows.iter().map(|r| r.priority)),
            text(rows.iter().map(|r| r.status)),
            text(rows.iter().map(|r| r.category)),
            int(rows.iter().map(|r| r.csat)),
        ],
    )
}

pub fn events(rows: &[EventRow]) -> Result<RecordBatch, ArrowError> {
    batch(
        SampleEntity::Event,
        vec![
            text(rows.iter().map(|r| r.id.as_str())),
            text(rows.iter().map(|r| r.customer_id.as_str())),
            timestamp(rows.iter().map(|r| Some(r.occurred_at))),
            text(rows.iter().map(|r| r.kind)),
            opt_text(rows.iter().map(|r| r.feature)),
        ],
    )
}

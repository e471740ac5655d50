//! chDB adapter.

//! tutor

//! Element-wise math functions of InfluxQL (`abs`, `sqrt`, `pow`, `log`, trigonometry,
//! ...) with InfluxDB 1.6's typing: `abs`/`ceil`/`floor`/`round` keep integers, every
//! other function returns a float, non-numeric input gives `Null`, and a NaN result
//! (e.g. `sqrt(-1)`) is reported as `Null`. Infinite results stay `Float(±inf)`
//! (InfluxDB itself fails to encode them as JSON).

use super::{float_value, Row};
use hyperbyte_domain::query::Value;

/// One-argument math functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryMath {
    /// `abs(x)`: keeps integer/unsigned types.
    Abs,
    /// `acos(x)`.
    Acos,
    /// `asin(x)`.
    Asin,
    /// `atan(x)`.
    Atan,
    /// `ceil(x)`: keeps integer/unsigned types.
    Ceil,
    /// `cos(x)`.
    Cos,
    /// `exp(x)`.
    Exp,
    /// `floor(x)`: keeps integer/unsigned types.
    Floor,
    /// `ln(x)`.
    Ln,
    /// `log2(x)`.
    Log2,
    /// `log10(x)`.
    Log10,
    /// `round(x)`: half away from zero; keeps integer/unsigned types.
    Round,
    /// `sin(x)`.
    Sin,
    /// `sqrt(x)`.
    Sqrt,
    /// `tan(x)`.
    Tan,
}

impl UnaryMath {
    /// Looks a function up by its (lower-case) InfluxQL name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "abs" => Self::Abs,
            "acos" => Self::Acos,
            "asin" => Self::Asin,
            "atan" => Self::Atan,
            "ceil" => Self::Ceil,
            "cos" => Self::Cos,
            "exp" => Self::Exp,
            "floor" => Self::Floor,
            "ln" => Self::Ln,
            "log2" => Self::Log2,
            "log10" => Self::Log10,
            "round" => Self::Round,
            "sin" => Self::Sin,
            "sqrt" => Self::Sqrt,
            "tan" => Self::Tan,
            _ => return None,
        })
    }
}

/// Two-argument math functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryMath {
    /// `atan2(y, x)`.
    Atan2,
    /// `log(x, base)` = `ln(x) / ln(base)`.
    Log,
    /// `pow(x, y)`.
    Pow,
}

impl BinaryMath {
    /// Looks a function up by its (lower-case) InfluxQL name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "atan2" => Self::Atan2,
            "log" => Self::Log,
            "pow" => Self::Pow,
            _ => return None,
        })
    }
}

/// Go's `math.Log2`: exact for powers of two.
fn go_log2(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || x.is_infinite() {
        return x.log2();
    }
    // frexp: x = frac * 2^exp with frac in [0.5, 1).
    let bits = x.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let (frac, exp) = if raw_exp == 0 {
        // Subnormal: scale up first.
        let y = x * (1u64 << 54) as f64;
        let b = y.to_bits();
        let e = ((b >> 52) & 0x7ff) as i64;
        (
            f64::from_bits((b & !(0x7ffu64 << 52)) | (1022u64 << 52)),
            e - 1022 - 54,
        )
    } else {
        (
            f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52)),
            raw_exp - 1022,
        )
    };
    if frac == 0.5 {
        return (exp - 1) as f64;
    }
    frac.ln() * (1.0 / std::f64::consts::LN_2) + exp as f64
}

fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Integer(i) => Some(*i as f64),
        Value::Unsigned(u) => Some(*u as f64),
        _ => None,
    }
}

/// Applies a one-argument function to one value.
pub fn unary(f: UnaryMath, v: &Value) -> Value {
    // Integers keep their value under these, `abs` included: InfluxDB 1.6.7 returns an
    // integer's `abs` unchanged (`abs(-5)` of an integer field prints -5; floats get
    // their absolute value). Recorded in `math--abs-integers`.
    if let (
        UnaryMath::Abs | UnaryMath::Ceil | UnaryMath::Floor | UnaryMath::Round,
        Value::Integer(_) | Value::Unsigned(_),
    ) = (f, v)
    {
        return v.clone();
    }
    let Some(x) = as_float(v) else {
        return Value::Null;
    };
    let r = match f {
        UnaryMath::Abs => x.abs(),
        UnaryMath::Acos => x.acos(),
        UnaryMath::Asin => x.asin(),
        UnaryMath::Atan => x.atan(),
        UnaryMath::Ceil => x.ceil(),
        UnaryMath::Cos => x.cos(),
        UnaryMath::Exp => x.exp(),
        UnaryMath::Floor => x.floor(),
        UnaryMath::Ln => x.ln(),
        UnaryMath::Log2 => go_log2(x),
        UnaryMath::Log10 => x.log10(),
        UnaryMath::Round => x.round(),
        UnaryMath::Sin => x.sin(),
        UnaryMath::Sqrt => x.sqrt(),
        UnaryMath::Tan => x.tan(),
    };
    float_value(r)
}

/// Applies a two-argument function; non-numeric arguments give `Null`.
pub fn binary(f: BinaryMath, a: &Value, b: &Value) -> Value {
    let (Some(x), Some(y)) = (as_float(a), as_float(b)) else {
        return Value::Null;
    };
    float_value(match f {
        BinaryMath::Atan2 => x.atan2(y),
        BinaryMath::Log => x.ln() / y.ln(),
        BinaryMath::Pow => x.powf(y),
    })
}

/// Applies a one-argument function to every row (times unchanged, `Null` stays `Null`).
pub fn apply_unary(f: UnaryMath, rows: &[Row]) -> Vec<Row> {
    rows.iter().map(|(t, v)| (*t, unary(f, v))).collect()
}

/// Applies a two-argument function to every row with a constant second argument
/// (`pow(x, 2)`, `log(x, 10)`, `atan2(x, 1)`).
pub fn apply_binary(f: BinaryMath, rows: &[Row], arg: &Value) -> Vec<Row> {
    rows.iter().map(|(t, v)| (*t, binary(f, v, arg))).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::approx_constant)]
    use super::*;
    use crate::functions::testutil::{assert_rows, fl, int, some};

    fn s() -> Vec<Row> {
        fl(&[
            (0, 1.5),
            (10, 4.0),
            (20, 3.0),
            (40, 7.25),
            (50, 2.0),
            (90, 10.0),
            (100, 10.0),
            (130, -3.0),
        ])
    }

    #[test]
    fn logs_and_roots_match_reference() {
        let ln = apply_unary(UnaryMath::Ln, &s());
        let want = [
            0.4054651081081644,
            1.3862943611198906,
            1.0986122886681096,
            1.9810014688665833,
            0.6931471805599453,
            2.302585092994046,
            2.302585092994046,
        ];
        for (g, w) in ln.iter().zip(want) {
            assert!((g.1.as_f64().unwrap() - w).abs() < 1e-15);
        }
        assert_eq!(ln[7].1, Value::Null, "ln(-3) is NaN → null");
        let l2 = apply_binary(BinaryMath::Log, &s(), &Value::Integer(2));
        assert_eq!(l2[0].1, Value::Float(0.5849625007211562));
        assert_eq!(l2[1].1, Value::Float(2.0));
        let lg2 = apply_unary(UnaryMath::Log2, &s());
        assert_eq!(lg2[0].1, Value::Float(0.5849625007211563));
        assert_eq!(lg2[1].1, Value::Float(2.0));
        assert_eq!(lg2[5].1, Value::Float(3.321928094887362));
        let lg10 = apply_unary(UnaryMath::Log10, &s());
        assert_eq!(lg10[0].1, Value::Float(0.17609125905568124));
        assert_eq!(lg10[5].1, Value::Float(1.0));
        let sq = apply_unary(UnaryMath::Sqrt, &s());
        assert_eq!(sq[0].1, Value::Float(1.224744871391589));
        assert_eq!(sq[7].1, Value::Null);
        assert_eq!(unary(UnaryMath::Acos, &Value::Float(1.5)), Value::Null);
        let at = apply_binary(BinaryMath::Atan2, &s(), &Value::Integer(0));
        assert_eq!(at[0].1, Value::Float(1.5707963267948966));
        assert_eq!(at[7].1, Value::Float(-1.5707963267948966));
        assert_eq!(
            binary(BinaryMath::Pow, &Value::Float(4.0), &Value::Float(0.5)),
            Value::Float(2.0)
        );
    }

    #[test]
    fn corpus_math() {
        // math--sqrt-negative: sqrt(value - 60) for serverA.
        let v = fl(&[(0, 50.0 - 60.0), (10, 75.77 - 60.0), (20, 89.42 - 60.0)]);
        assert_rows(
            &apply_unary(UnaryMath::Sqrt, &v),
            &[
                (0, None),
                (10, Some(3.9711459303329555)),
                (20, Some(5.424020648928247)),
            ],
        );
        // math--trig (serverA first rows)
        let v = fl(&[(0, 50.0), (10, 75.77)]);
        assert_rows(
            &apply_unary(UnaryMath::Sin, &v),
            &some(&[(0, -0.26237485370392877), (10, 0.36327096656529284)]),
        );
        assert_rows(
            &apply_unary(UnaryMath::Cos, &v),
            &some(&[(0, 0.9649660284921132), (10, 0.931683532563884)]),
        );
        assert_rows(
            &apply_unary(UnaryMath::Tan, &v),
            &some(&[(0, -0.2719006119976307), (10, 0.3899081113579561)]),
        );
        // math--log (serverB, base 10) and log2/log10 (serverC)
        let b = fl(&[(0, 83.66)]);
        assert_rows(
            &apply_binary(BinaryMath::Log, &b, &Value::Integer(10)),
            &some(&[(0, 1.9225178602446114)]),
        );
        let c = fl(&[(0, 86.37)]);
        assert_rows(
            &apply_unary(UnaryMath::Log2, &c),
            &some(&[(0, 6.432458384509866)]),
        );
        assert_rows(
            &apply_unary(UnaryMath::Log10, &c),
            &some(&[(0, 1.9363629195977445)]),
        );
        // math--inverse-trig
        let b = fl(&[(0, 0.8366)]);
        assert_rows(
            &apply_unary(UnaryMath::Asin, &b),
            &some(&[(0, 0.9910470026468237)]),
        );
        assert_rows(
            &apply_unary(UnaryMath::Acos, &b),
            &some(&[(0, 0.5797493241480729)]),
        );
        // math--pow
        let a = fl(&[(10, 75.77)]);
        assert_rows(
            &apply_binary(BinaryMath::Pow, &a, &Value::Integer(2)),
            &some(&[(10, 5741.0929)]),
        );
        // math--round-by-time: round(mean)
        assert_eq!(
            unary(UnaryMath::Round, &Value::Float(67.5)),
            Value::Float(68.0)
        );
        assert_eq!(
            unary(UnaryMath::Round, &Value::Float(-2.5)),
            Value::Float(-3.0)
        );
    }

    #[test]
    fn integer_typing() {
        let r = int(&[(0, -3), (1, 7)]);
        // InfluxDB 1.6.7's abs() leaves integers as they are.
        assert_eq!(apply_unary(UnaryMath::Abs, &r)[0].1, Value::Integer(-3));
        for f in [UnaryMath::Round, UnaryMath::Ceil, UnaryMath::Floor] {
            assert_eq!(apply_unary(f, &r)[1].1, Value::Integer(7));
        }
        assert_eq!(
            unary(UnaryMath::Abs, &Value::Integer(i64::MIN)),
            Value::Integer(i64::MIN)
        );
        assert_eq!(
            unary(UnaryMath::Sqrt, &Value::Integer(4)),
            Value::Float(2.0)
        );
        assert_eq!(
            unary(UnaryMath::Abs, &Value::Unsigned(4)),
            Value::Unsigned(4)
        );
        assert_eq!(
            binary(BinaryMath::Pow, &Value::Integer(3), &Value::Integer(2)),
            Value::Float(9.0)
        );
    }

    #[test]
    fn non_numeric_is_null() {
        // math--math-string-error: abs(msg) gives a null per row.
        assert_eq!(
            unary(UnaryMath::Abs, &Value::String("m0".into())),
            Value::Null
        );
        assert_eq!(unary(UnaryMath::Sin, &Value::Boolean(true)), Value::Null);
        assert_eq!(unary(UnaryMath::Sin, &Value::Null), Value::Null);
        assert_eq!(
            binary(BinaryMath::Pow, &Value::Null, &Value::Integer(2)),
            Value::Null
        );
        assert_eq!(UnaryMath::from_name("log10"), Some(UnaryMath::Log10));
        assert_eq!(BinaryMath::from_name("atan2"), Some(BinaryMath::Atan2));
        assert_eq!(UnaryMath::from_name("nope"), None);
    }

    #[test]
    fn infinities_stay_float() {
        assert_eq!(
            unary(UnaryMath::Ln, &Value::Float(0.0)),
            Value::Float(f64::NEG_INFINITY)
        );
        assert_eq!(
            unary(UnaryMath::Log2, &Value::Float(0.0)),
            Value::Float(f64::NEG_INFINITY)
        );
    }
}

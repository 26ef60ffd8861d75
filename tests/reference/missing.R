# Reference values for servicestudy.missing (tests/test_missing.py).
# naniar, BaylorEdPsych, misty, norm and mice are not installed, so Little's (1988) MCAR test
# is implemented here independently, by formula: EM for the multivariate normal written
# row by row (not by pattern), then d^2 = sum_j n_j (ybar_j - mu_j)' S_j^-1 (ybar_j - mu_j)
# with df = sum_j p_j - p. Rubin's rules (Barnard-Rubin df, mice's fmi) likewise by formula.
# Run from the repository root: Rscript tests/reference/missing.R
library(MASS)
library(jsonlite)
set.seed(19880404)
n <- 250
S <- matrix(c(1, .5, .4, .3,
              .5, 1, .45, .35,
              .4, .45, 1, .5,
              .3, .35, .5, 1), 4)
x <- mvrnorm(n, mu = c(3, 3.5, 2.8, 3.2), Sigma = S)
colnames(x) <- c("v1", "v2", "v3", "v4")
# MAR: v3 missing more often when v1 is high; v4 MCAR; v2 missing when v1 low (some rows)
x[runif(n) < plogis(-2.5 + 1.2 * (x[, "v1"] - 3)), "v3"] <- NA
x[runif(n) < 0.12, "v4"] <- NA
x[runif(n) < plogis(-2.2 - 1.0 * (x[, "v1"] - 3)), "v2"] <- NA
x[sample(n, 3), ] <- NA  # rows with nothing observed are ignored
# MCAR copy of the complete data
y <- mvrnorm(n, mu = c(0, 0, 0), Sigma = S[1:3, 1:3])
colnames(y) <- c("w1", "w2", "w3")
y[matrix(runif(n * 3) < 0.15, n)] <- NA
write.csv(data.frame(x), "tests/reference/missing_mar.csv", row.names = FALSE, na = "")
write.csv(data.frame(y), "tests/reference/missing_mcar.csv", row.names = FALSE, na = "")

em_rowwise <- function(x, tol = 1e-12, maxit = 10000) {
  x <- x[rowSums(!is.na(x)) > 0, , drop = FALSE]
  n <- nrow(x); p <- ncol(x)
  mu <- colMeans(x, na.rm = TRUE)
  sig <- diag(apply(x, 2, function(v) mean((v - mean(v, na.rm = TRUE))^2, na.rm = TRUE)), p)
  for (it in 1:maxit) {
    T1 <- numeric(p); T2 <- matrix(0, p, p)
    for (i in 1:n) {
      o <- which(!is.na(x[i, ])); m <- which(is.na(x[i, ]))
      xi <- x[i, ]; C <- matrix(0, p, p)
      if (length(m)) {
        B <- sig[m, o, drop = FALSE] %*% solve(sig[o, o, drop = FALSE])
        xi[m] <- mu[m] + B %*% (x[i, o] - mu[o])
        C[m, m] <- sig[m, m, drop = FALSE] - B %*% sig[o, m, drop = FALSE]
      }
      T1 <- T1 + xi
      T2 <- T2 + tcrossprod(xi) + C
    }
    mu_new <- T1 / n
    sig_new <- T2 / n - tcrossprod(mu_new)
    change <- max(abs(mu_new - mu), abs(sig_new - sig))
    mu <- mu_new; sig <- sig_new
    if (change < tol) break
  }
  list(mu = mu, sigma = sig, iterations = it)
}

little <- function(x) {
  x <- x[rowSums(!is.na(x)) > 0, , drop = FALSE]
  em <- em_rowwise(x)
  key <- apply(!is.na(x), 1, function(r) paste(as.integer(r), collapse = ""))
  d2 <- 0; df <- 0
  for (k in unique(key)) {
    rows <- which(key == k)
    o <- which(!is.na(x[rows[1], ]))
    ybar <- colMeans(x[rows, o, drop = FALSE])
    dev <- ybar - em$mu[o]
    d2 <- d2 + length(rows) * drop(t(dev) %*% solve(em$sigma[o, o, drop = FALSE]) %*% dev)
    df <- df + length(o)
  }
  df <- df - ncol(x)
  list(statistic = d2, df = df, pvalue = pchisq(d2, df, lower.tail = FALSE),
       n_patterns = length(unique(key)), n_obs = nrow(x),
       mean = unname(em$mu), cov = unname(as.vector(em$sigma)), em_iterations = em$iterations)
}

# Rubin's rules by formula on fixed inputs
set.seed(1987)
m <- 7; k <- 3
Q <- matrix(rnorm(m * k, mean = c(1, -0.5, 0.2), sd = c(0.1, 0.05, 0.2)), m, k, byrow = TRUE)
U <- matrix(runif(m * k, 0.002, 0.02), m, k)
dfcom <- 120
qbar <- colMeans(Q); ubar <- colMeans(U); b <- apply(Q, 2, var)
t <- ubar + (1 + 1 / m) * b
riv <- (1 + 1 / m) * b / ubar
lambda <- (1 + 1 / m) * b / t
dfold <- (m - 1) / lambda^2
dfobs <- (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lambda)
df <- dfold * dfobs / (dfold + dfobs)
fmi <- (riv + 2 / (df + 3)) / (riv + 1)
pool <- list(Q = as.vector(t(Q)), U = as.vector(t(U)), m = m, k = k, df_complete = dfcom,
             estimate = qbar, within = ubar, between = b, total = t, riv = riv, lambda = lambda,
             df = df, fmi = fmi, pvalue = 2 * pt(abs(qbar / sqrt(t)), df, lower.tail = FALSE),
             ci_low = qbar - qt(0.975, df) * sqrt(t))

out <- list(
  R_version = R.version.string,
  MASS_version = as.character(packageVersion("MASS")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  generated_by = "tests/reference/missing.R",
  calls = c(little_mar = "little(x): em_rowwise(x, tol = 1e-12) then Little's d2 over the missingness patterns (functions defined in this script)",
            little_mcar = "little(y), the same on the MCAR copy",
            pool = "Rubin's rules by formula on Q, U (m x k) with df_complete = dfcom"),
  note = "EM and Little's d2 written in this script (row-wise EM, tol 1e-12 on max abs change); Rubin's rules by formula (Barnard-Rubin 1999 df; fmi as mice::pool).",
  little_mar = little(x),
  little_mcar = little(y),
  pool = pool
)
write_json(out, "tests/reference/missing.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)

"""Signed (USER_DATA) Binance endpoints for the loopback fake exchange (`tests.fakes.fake_binance.FakeBinance`).

`SignedBinance(server)` registers the account endpoints onto a running fake with `server.add_route`, so ccxt's real
signing, request and parsing code runs against them. It checks what Binance checks: the `X-MBX-APIKEY` header
(-2015, HTTP 401, for an unknown or revoked key), the HMAC-SHA256 `signature` of the query (-1022), and the
`timestamp` against `recvWindow` (-1021, with `clock_offset_ms` simulating a drifting clock). Bodies follow the
documented examples (binance-risk-notes §5); the USDⓈ-M BTCUSDT row is the ccxt fixture capture whose liquidation
price is 64846.98753790.

Every field is plain data on the object, so a test changes the book (shrink a position, send liquidationPrice "0")
between imports without touching routes.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from tests.fakes.fake_binance import FakeBinance

API_KEY = "fake-api-key-0001"
SECRET = "fake-secret-0001"

CROSS_ACCOUNT: dict[str, Any] = {
    "created": True, "borrowEnabled": True, "marginLevel": "11.64405625", "collateralMarginLevel": "3.2",
    "totalAssetOfBtc": "6.82728457", "totalLiabilityOfBtc": "0.58633215", "totalNetAssetOfBtc": "6.24095242",
    "TotalCollateralValueInUSDT": "5.82728457", "totalOpenOrderLossInUSDT": "582.728457",
    "tradeEnabled": True, "transferInEnabled": True, "transferOutEnabled": True, "accountType": "MARGIN_1",
    "userAssets": [
        {"asset": "BTC", "borrowed": "0.00000000", "free": "0.00499500", "interest": "0.00000000",
         "locked": "0.00000000", "netAsset": "0.00499500"},
        {"asset": "BNB", "borrowed": "201.66666672", "free": "2346.50000000", "interest": "0.00000000",
         "locked": "0.00000000", "netAsset": "2144.83333328"},
        {"asset": "ETH", "borrowed": "0.00000000", "free": "0.00000000", "interest": "0.00000000",
         "locked": "0.00000000", "netAsset": "0.00000000"},
    ],
}


def _isolated_asset(asset: str, free: str, borrowed: str, interest: str) -> dict[str, Any]:
    return {"asset": asset, "borrowEnabled": True, "borrowed": borrowed, "free": free, "interest": interest,
            "locked": "0.00000000", "netAsset": "0", "netAssetOfBtc": "0", "repayEnabled": True,
            "totalAsset": free}


ISOLATED_ACCOUNT: dict[str, Any] = {
    "assets": [
        {"baseAsset": _isolated_asset("BTC", "0.50000000", "0.00000000", "0.00000000"),
         "quoteAsset": _isolated_asset("USDT", "1000.00000000", "25000.00000000", "2.50000000"),
         "symbol": "BTCUSDT", "isolatedCreated": True, "enabled": True,
         "marginLevel": "1.23993410", "marginLevelStatus": "NORMAL", "marginRatio": "5.00000000",
         "indexPrice": "60000.00000000", "liquidatePrice": "52552.50000000", "liquidateRate": "1.05000000",
         "tradeEnabled": True},
        # An empty pair (created, nothing in it): not a position, must not be imported.
        {"baseAsset": _isolated_asset("ETH", "0.00000000", "0.00000000", "0.00000000"),
         "quoteAsset": _isolated_asset("USDT", "0.00000000", "0.00000000", "0.00000000"),
         "symbol": "ETHUSDT", "isolatedCreated": True, "enabled": True,
         "marginLevel": "0.00000000", "marginLevelStatus": "EXCESSIVE", "marginRatio": "0.00000000",
         "indexPrice": "3000.00000000", "liquidatePrice": "0.00000000", "liquidateRate": "1.05000000",
         "tradeEnabled": True},
    ],
    "totalAssetOfBtc": "1.0", "totalLiabilityOfBtc": "0.4", "totalNetAssetOfBtc": "0.6",
}

USDM_POSITIONS: list[dict[str, Any]] = [
    # ccxt fixture capture (ts/src/test/static/response/binance.json, fetchPositions).
    {"symbol": "BTCUSDT", "positionSide": "BOTH", "positionAmt": "0.009", "entryPrice": "67445.9",
     "breakEvenPrice": "67472.87836", "markPrice": "67502.68519858", "unRealizedProfit": "0.51106667",
     "liquidationPrice": "64846.98753790", "isolatedMargin": "0", "notional": "607.52416678",
     "marginAsset": "USDT", "isolatedWallet": "0", "initialMargin": "30.37620833", "maintMargin": "2.43009666",
     "positionInitialMargin": "30.37620833", "openOrderInitialMargin": "0", "adl": "2", "bidNotional": "0",
     "askNotional": "0", "updateTime": "1720705785513"},
    {"symbol": "ETHUSDT", "positionSide": "BOTH", "positionAmt": "-2", "entryPrice": "3000",
     "breakEvenPrice": "3001.2", "markPrice": "3001", "unRealizedProfit": "-2", "liquidationPrice": "3120.5",
     "isolatedMargin": "148", "notional": "-6002", "marginAsset": "USDT", "isolatedWallet": "150",
     "initialMargin": "300.1", "maintMargin": "30.01", "positionInitialMargin": "300.1",
     "openOrderInitialMargin": "0", "adl": 1, "bidNotional": "0", "askNotional": "0", "updateTime": 1720736417660},
]

# The cross wallet that makes Binance's BTCUSDT liquidation price (64846.98753790) come out of the one-way formula
# (ccxt's back-computed `collateral` for the fixture row).
USDM_ACCOUNT: dict[str, Any] = {
    "totalInitialMargin": "330.48", "totalMaintMargin": "32.44", "totalWalletBalance": "1150.00",
    "totalUnrealizedProfit": "-1.49", "totalMarginBalance": "1148.51", "totalPositionInitialMargin": "330.48",
    "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": "25.72470371", "totalCrossUnPnl": "0.51",
    "availableBalance": "818.03", "maxWithdrawAmount": "818.03",
    "assets": [
        {"asset": "USDT", "walletBalance": "1150.00", "unrealizedProfit": "-1.49", "marginBalance": "1148.51",
         "maintMargin": "32.44", "initialMargin": "330.48", "positionInitialMargin": "330.48",
         "openOrderInitialMargin": "0", "crossWalletBalance": "25.72470371", "crossUnPnl": "0.51",
         "availableBalance": "818.03", "maxWithdrawAmount": "818.03", "marginAvailable": True,
         "updateTime": 1720736417660},
    ],
    "positions": [],
}

COINM_POSITIONS: list[dict[str, Any]] = [
    {"symbol": "BTCUSD_PERP", "positionAmt": "10", "entryPrice": "60000", "markPrice": "60020",
     "unRealizedProfit": "0.00005553", "liquidationPrice": "", "leverage": "20", "maxQty": "50",
     "marginType": "cross", "isolatedMargin": "0", "isAutoAddMargin": "false", "positionSide": "BOTH",
     "notionalValue": "0.01666111", "isolatedWallet": "0", "updateTime": 1720736417660,
     "breakEvenPrice": "60012"},
]

COINM_ACCOUNT: dict[str, Any] = {
    "assets": [
        {"asset": "BTC", "walletBalance": "0.05", "unrealizedProfit": "0.00005553", "marginBalance": "0.05005553",
         "maintMargin": "0.00006664", "initialMargin": "0.00083306", "positionInitialMargin": "0.00083306",
         "openOrderInitialMargin": "0", "maxWithdrawAmount": "0.0492", "crossWalletBalance": "0.05",
         "crossUnPnl": "0.00005553", "availableBalance": "0.0492", "updateTime": 1720736417660},
    ],
    "positions": [], "canDeposit": True, "canTrade": True, "canWithdraw": True, "feeTier": 0,
    "updateTime": 1720736417660,
}

USDM_BRACKETS: list[dict[str, Any]] = [
    {"symbol": "BTCUSDT", "brackets": [
        {"bracket": 1, "initialLeverage": 125, "notionalCap": 50000, "notionalFloor": 0, "maintMarginRatio": 0.004,
         "cum": 0.0},
        {"bracket": 2, "initialLeverage": 100, "notionalCap": 600000, "notionalFloor": 50000,
         "maintMarginRatio": 0.005, "cum": 50.0},
        {"bracket": 3, "initialLeverage": 75, "notionalCap": 3000000, "notionalFloor": 600000,
         "maintMarginRatio": 0.0065, "cum": 950.0},
    ]},
    {"symbol": "ETHUSDT", "notionalCoef": 1.50, "brackets": [
        {"bracket": 1, "initialLeverage": 75, "notionalCap": 10000, "notionalFloor": 0, "maintMarginRatio": 0.005,
         "cum": 0.0},
        {"bracket": 2, "initialLeverage": 50, "notionalCap": 100000, "notionalFloor": 10000,
         "maintMarginRatio": 0.0065, "cum": 15.0},
    ]},
]

COINM_BRACKETS: list[dict[str, Any]] = [
    {"symbol": "BTCUSD_PERP", "brackets": [
        {"bracket": 1, "initialLeverage": 125, "qtyCap": 5, "qtyFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0},
        {"bracket": 2, "initialLeverage": 100, "qtyCap": 10, "qtyFloor": 5, "maintMarginRatio": 0.005,
         "cum": 0.005},
    ]},
]

READ_ONLY_RESTRICTIONS: dict[str, Any] = {
    "ipRestrict": False, "createTime": 1698645219000, "enableReading": True, "enableWithdrawals": False,
    "enableInternalTransfer": False, "enableMargin": False, "enableFutures": False,
    "permitsUniversalTransfer": False, "enableVanillaOptions": False, "enableFixApiTrade": False,
    "enableFixReadOnly": True, "enableSpotAndMarginTrading": False, "enablePortfolioMarginTrading": False,
}

BORROW_RATES = {"BNB": "0.00030000", "USDT": "0.00024000", "BTC": "0.00010000", "ETH": "0.00012000"}


def _ms() -> int:
    return int(time.time() * 1000)


class SignedBinance:
    """The account side of the fake. Mutate the public attributes between imports to change what it answers."""

    def __init__(self, server: FakeBinance, api_key: str = API_KEY, secret: str = SECRET) -> None:
        self.server = server
        self.keys: dict[str, str] = {api_key: secret}
        self.revoked: set[str] = set()
        self.clock_offset_ms = 0  # the fake exchange's clock minus ours
        self.cross = copy.deepcopy(CROSS_ACCOUNT)
        self.isolated = copy.deepcopy(ISOLATED_ACCOUNT)
        self.usdm_positions = copy.deepcopy(USDM_POSITIONS)
        self.usdm_account = copy.deepcopy(USDM_ACCOUNT)
        self.coinm_positions = copy.deepcopy(COINM_POSITIONS)
        self.coinm_account = copy.deepcopy(COINM_ACCOUNT)
        self.usdm_brackets = copy.deepcopy(USDM_BRACKETS)
        self.coinm_brackets = copy.deepcopy(COINM_BRACKETS)
        self.restrictions = copy.deepcopy(READ_ONLY_RESTRICTIONS)
        self.borrow_rates = dict(BORROW_RATES)
        self.seen_api_keys: list[str] = []
        routes = {
            "/sapi/v1/margin/account": lambda q: self.cross,
            "/sapi/v1/margin/isolated/account": lambda q: self.isolated,
            "/fapi/v3/positionRisk": lambda q: self.usdm_positions,
            "/fapi/v2/positionRisk": lambda q: self.usdm_positions,
            "/fapi/v3/account": lambda q: self.usdm_account,
            "/fapi/v2/account": lambda q: self.usdm_account,
            "/fapi/v1/leverageBracket": self._usdm_brackets,
            "/dapi/v1/positionRisk": lambda q: self.coinm_positions,
            "/dapi/v1/account": lambda q: self.coinm_account,
            "/dapi/v2/leverageBracket": self._coinm_brackets,
            "/sapi/v1/account/apiRestrictions": lambda q: self.restrictions,
            "/sapi/v1/margin/interestRateHistory": self._interest_rate_history,
            "/sapi/v1/margin/allPairs": lambda q: [],
            "/sapi/v1/margin/isolated/allPairs": lambda q: [],
            "/sapi/v1/capital/config/getall": lambda q: [],
        }
        for path, answer in routes.items():
            server.add_route("GET", path, self._signed(answer))

    # --- signing, as Binance checks it ------------------------------------------------------------------------
    def _signed(self, answer: Any) -> Any:
        def handler(query: dict[str, str], headers: Mapping[str, str]) -> tuple[int, Any, dict[str, str]]:
            key = headers.get("X-MBX-APIKEY") or ""
            self.seen_api_keys.append(key)
            if key in self.revoked or key not in self.keys:
                return 401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, {}
            params = {k: v for k, v in query.items() if k != "signature"}
            payload = urlencode(params)
            expected = hmac.new(self.keys[key].encode(), payload.encode(), hashlib.sha256).hexdigest()
            if "signature" not in query or not hmac.compare_digest(expected, query["signature"]):
                return 400, {"code": -1022, "msg": "Signature for this request is not valid."}, {}
            try:
                stamp = int(query.get("timestamp", "0"))
                window = int(query.get("recvWindow", "5000"))
            except ValueError:
                return 400, {"code": -1102, "msg": "Mandatory parameter 'timestamp' was not sent."}, {}
            now = _ms() + self.clock_offset_ms
            if stamp > now + 1000 or now - stamp > window:
                return 400, {"code": -1021,
                             "msg": "Timestamp for this request is outside of the recvWindow."}, {}
            return 200, copy.deepcopy(answer(params)), {}

        return handler

    def _usdm_brackets(self, query: dict[str, str]) -> Any:
        if query.get("symbol"):
            rows = [b for b in self.usdm_brackets if b["symbol"] == query["symbol"]]
            return rows[0] if rows else {"code": -1121, "msg": "Invalid symbol."}
        return self.usdm_brackets

    def _coinm_brackets(self, query: dict[str, str]) -> Any:
        return self.coinm_brackets

    def _interest_rate_history(self, query: dict[str, str]) -> Any:
        asset = query.get("asset", "")
        if asset not in self.borrow_rates:
            return []
        return [{"asset": asset, "timestamp": _ms() - 3_600_000, "dailyInterestRate": self.borrow_rates[asset],
                 "vipLevel": 0}]

    def ccxt_config(self) -> dict[str, Any]:
        """URL overrides plus the sandbox-free options a test client needs (no real network)."""
        return self.server.ccxt_config()


__all__ = ["API_KEY", "SECRET", "SignedBinance"]

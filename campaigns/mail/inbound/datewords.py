"""Month and weekday names, and the words that say "back on" or "until", in many languages.

Short abbreviations that are also common words (English "set", "out", "ago"; German
"Sie"; Italian "gen") are left out on purpose: a wrong return date is worse than none.
"""

from __future__ import annotations

_MONTHS: dict[int, str] = {
    1: "january jan januar jänner janvier janv enero ene januari gennaio janeiro "
       "styczeń styczen stycznia sty tammikuuta января ledna ocak",
    2: "february feb februar février fevrier févr fevr febrero februari febbraio fevereiro fev "
       "luty lutego lut helmikuuta февраля února unora şubat subat",
    3: "march mar märz maerz mär mrz mars marzo maart mrt março marco marzec marca "
       "maaliskuuta марта března brezna mart marts",
    4: "april apr avril avr abril abr aprile kwiecień kwiecien kwietnia kwi huhtikuuta "
       "апреля dubna nisan",
    5: "may mai mayo mei maggio mag maio maj maja toukokuuta мая května kvetna mayıs",
    6: "june jun juni juin junio giugno giu junho czerwiec czerwca cze kesäkuuta июня "
       "června cervna haziran",
    7: "july jul juli juillet juil julio luglio lug julho lipiec lipca lip heinäkuuta "
       "июля července cervence temmuz",
    8: "august aug août aout agosto augustus augusti sierpień sierpien sierpnia "
       "elokuuta августа srpna ağustos",
    9: "september sep sept septembre septiembre setiembre settembre setembro wrzesień "
       "wrzesien września wrzesnia wrz syyskuuta сентября září zari eylül",
    10: "october oct oktober okt octobre octubre ottobre ott outubro październik "
        "pazdziernik października pazdziernika paź lokakuuta октября října rijna ekim",
    11: "november nov novembre noviembre novembro listopad listopada marraskuuta ноября "
        "listopadu kasım",
    12: "december dec dezember dez décembre decembre déc diciembre dic dicembre dezembro "
        "grudzień grudzien grudnia gru joulukuuta декабря prosince aralık desember",
}
MONTHS: dict[str, int] = {word: n for n, words in _MONTHS.items() for word in words.split()}

_WEEKDAYS: dict[int, str] = {
    0: "monday montag lundi lunes maandag poniedziałek poniedzialek lunedì lunedi "
       "segunda-feira segunda måndag mandag maanantaina понедельник",
    1: "tuesday dienstag mardi martes dinsdag wtorek martedì martedi terça-feira terça "
       "terca tisdag tirsdag tiistaina вторник",
    2: "wednesday mittwoch mercredi miércoles miercoles woensdag środa środę sroda srode "
       "mercoledì mercoledi quarta-feira quarta onsdag keskiviikkona среду",
    3: "thursday donnerstag jeudi jueves donderdag czwartek giovedì giovedi quinta-feira "
       "quinta torsdag torstaina четверг",
    4: "friday freitag vendredi viernes vrijdag piątek piatek venerdì venerdi sexta-feira "
       "sexta fredag perjantaina пятницу",
    5: "saturday samstag sonnabend samedi sábado sabado zaterdag sobota sobotę sobote "
       "lördag lørdag lauantaina субботу",
    6: "sunday sonntag dimanche domingo zondag niedziela niedzielę niedziele domenica "
       "söndag søndag sunnuntaina воскресенье",
}
WEEKDAYS: dict[str, int] = {w: n for n, words in _WEEKDAYS.items() for w in words.split()}
TOMORROW = ("tomorrow", "morgen", "demain", "mañana", "manana", "jutro", "domani",
            "amanhã", "amanha", "imorgon", "i morgen", "huomenna", "明日", "завтра")

# Written before the date: "I'll be back on", "zurück am", "de retour le", "wracam".
BACK_BEFORE = (
    r"back|return(?:ing|s)?|returned|(?:in|into) the office|in office|at (?:my|the) desk|"
    r"available (?:again )?(?:from|on|as of)|reachable (?:again )?(?:from|on)|resume|"
    r"zurück|wieder (?:im büro|da|erreichbar|zurück|verfügbar|im hause)|ab dem|ab|"
    r"de retour|je rentre|retour|à partir du|a partir du|dès le|des le|"
    r"de vuelta|regreso|regresaré|regresare|vuelvo|volveré|volvere|a partir del|"
    r"terug|weer (?:aanwezig|op kantoor|beschikbaar|bereikbaar)|vanaf|"
    r"wracam|powrót|powrot|z powrotem|od dnia|od|"
    r"rientro|rientrerò|rientrero|di ritorno|sarò in ufficio|"
    r"regresso|de volta|volto|estarei de volta|"
    r"tillbaka|åter|tilbage|igen|"
    r"zpět|zpet|"
    r"вернусь|с"
)
# Written after the date: "... wieder im Büro", "から出社", "に戻ります".
BACK_AFTER = (
    r"wieder|zurück|terug|weer|z powrotem|de retour|"
    r"から|より|以降|に戻|に出社|出社|戻り|返回|回来|回到|上班"
)
UNTIL_BEFORE = (
    r"until|till|til|through|thru|up to and including|up to|to|"
    r"bis (?:zum|einschließlich|einschliesslich|inklusive|inkl\.?|am)|bis|"
    r"jusqu'au|jusqu’au|jusqu'à|jusqu’à|jusqu au|au|"
    r"hasta el|hasta|al|"
    r"t/m|tot en met|tot|"
    r"do dnia|do|"
    r"fino al|fino a|fino|"
    r"até (?:ao|a|o|dia)|até|ate|"
    r"till och med|t\.o\.m\.?|fram till|til og med|t\.o\.m|indtil|"
    r"do|"
    r"до|по|至|到"
)
UNTIL_AFTER = r"まで|迄|为止|為止|前"
